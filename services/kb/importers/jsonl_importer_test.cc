#include "services/kb/importers/jsonl_importer.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "services/kb/importers/entry_format.h"
#include "services/kb/importers/formats.h"
#include "services/kb/importers/lawref_format.h"
#include "services/kb/importers/line_reader.h"
#include "tests/support/test_util.h"

namespace hotline::kb::importers {
namespace {

// Tests run from the repository root.
constexpr char kDemo[] = "services/kb/demo/knowledge_base.jsonl";
constexpr char kLawref[] = "../shared/data/lawref/documents.jsonl.gz";

std::vector<SourceRecord> ReadAll(SourceReader& reader, int limit = -1) {
  std::vector<SourceRecord> out;
  while (limit < 0 || static_cast<int>(out.size()) < limit) {
    absl::StatusOr<std::optional<SourceRecord>> record = reader.Next();
    EXPECT_TRUE(record.ok()) << record.status();
    if (!record.ok() || !record->has_value()) break;
    out.push_back(**std::move(record));
  }
  return out;
}

TEST(JsonLinesImporterTest, EveryDemoEntryParses) {
  absl::StatusOr<std::unique_ptr<SourceReader>> reader = OpenSource(kDemo, nullptr);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->defaults().source_name, "knowledge_base");
  std::vector<SourceRecord> records = ReadAll(**reader);
  ASSERT_EQ(records.size(), 168u);  // services/kb/demo/README.md
  int kinds[5] = {};
  for (const SourceRecord& r : records) {
    ASSERT_TRUE(r.item.ok()) << r.origin << ": " << r.item.status();
    ++kinds[r.item->entry().kind()];
    EXPECT_EQ(r.item->source_id(), r.item->entry().id());
  }
  EXPECT_EQ(kinds[v1::ENTRY_KIND_POLICY_DOCUMENT], 31);
  EXPECT_EQ(kinds[v1::ENTRY_KIND_QA_PAIR], 101);
  EXPECT_EQ(kinds[v1::ENTRY_KIND_SERVICE_GUIDE], 29);
  EXPECT_EQ(kinds[v1::ENTRY_KIND_HOT_TOPIC], 7);
  EXPECT_EQ((*reader)->Progress().done, (*reader)->Progress().total);
}

TEST(JsonLinesImporterTest, GzippedAndPlainGiveTheSameItemsAndBadLinesNameTheirLine) {
  testing::TempDir dir;
  const std::string lines =
      R"({"kind":"qa","id":"q1","question":"起付线是多少？","answer":"800元。","region":"湖南/长沙"})"
      "\n\n"
      "{not json\n"
      R"({"kind":"policy","id":"p1","title":"办法","body":"第一条 内容。","status":"in_force"})"
      "\n"
      R"({"title":"neither format"})";  // No final newline.
  std::string plain = dir.Sub("entries.jsonl");
  std::ofstream(plain) << lines;
  std::string gz = dir.Sub("entries.jsonl.gz");
  gzFile file = gzopen(gz.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(gzwrite(file, lines.data(), lines.size()), static_cast<int>(lines.size()));
  gzclose(file);

  for (const std::string& path : {plain, gz}) {
    SCOPED_TRACE(path);
    absl::StatusOr<std::unique_ptr<SourceReader>> reader = OpenSource(path, nullptr);
    ASSERT_TRUE(reader.ok()) << reader.status();
    EXPECT_EQ((*reader)->defaults().source_name, "entries");
    std::vector<SourceRecord> records = ReadAll(**reader);
    ASSERT_EQ(records.size(), 4u);
    ASSERT_TRUE(records[0].item.ok());
    EXPECT_EQ(records[0].item->entry().qa_pair().answer(), "800元。");
    EXPECT_EQ(records[1].origin, path + ":3");
    EXPECT_FALSE(records[1].item.ok());
    ASSERT_TRUE(records[2].item.ok());
    EXPECT_EQ(records[2].item->entry().status(), v1::ENTRY_STATUS_IN_FORCE);
    EXPECT_EQ(records[2].item->content().format(), v1::CONTENT_FORMAT_MARKDOWN);
    EXPECT_EQ(records[3].origin, path + ":5");
    EXPECT_NE(records[3].item.status().message().find("LawRefBook"), std::string::npos);
  }
}

TEST(JsonLinesImporterTest, LawrefExportIsRecognisedAndNamedLawref) {
  absl::StatusOr<std::unique_ptr<SourceReader>> reader = OpenSource(kLawref, nullptr);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->defaults().source_name, kLawrefSourceName);
  std::vector<SourceRecord> records = ReadAll(**reader, 50);
  ASSERT_EQ(records.size(), 50u);
  for (const SourceRecord& r : records) {
    ASSERT_TRUE(r.item.ok()) << r.origin << ": " << r.item.status();
    const v1::ImportItem& item = *r.item;
    EXPECT_TRUE(absl::StartsWith(item.source_id(), "lawref:")) << item.source_id();
    EXPECT_EQ(item.entry().id(), item.source_id());
    EXPECT_EQ(item.entry().kind(), v1::ENTRY_KIND_POLICY_DOCUMENT);
    EXPECT_FALSE(item.entry().title().empty());
    EXPECT_NE(item.entry().policy_document().level(), v1::POLICY_LEVEL_UNSPECIFIED);
    // The export's folder is no category of ours: the server's classifier picks one.
    EXPECT_EQ(item.entry().category_path(), "");
    EXPECT_EQ(item.content().format(), v1::CONTENT_FORMAT_MARKDOWN);
    EXPECT_FALSE(item.content().text().empty());
  }
  // Compressed bytes, so the fraction done is right for a gzip file too.
  ReadProgress progress = (*reader)->Progress();
  EXPECT_GT(progress.done, 0);
  EXPECT_LT(progress.done, progress.total);
}

TEST(JsonLinesImporterTest, RepealedLawsArriveRepealedAndOthersAreDerived) {
  int repealed = 0, derived = 0;
  ASSERT_TRUE(ForEachLine(kLawref, [&](absl::string_view line) {
                absl::StatusOr<LawrefRecord> record = ParseLawrefLine(line);
                if (!record.ok()) return record.status();
                v1::ImportItem item = LawrefToItem(*record);
                if (item.entry().status() == v1::ENTRY_STATUS_REPEALED) ++repealed;
                if (item.entry().status() == v1::ENTRY_STATUS_UNSPECIFIED) ++derived;
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(repealed, 116);  // The export's "status": "repealed" lines.
  EXPECT_EQ(derived, 3327);
}

TEST(SourceTest, NamesAndFormatsFromPaths) {
  EXPECT_EQ(SourceNameFromPath("data/Policies 2024.csv.gz"), "policies-2024");
  EXPECT_EQ(SourceNameFromPath("pages/"), "pages");
  EXPECT_EQ(SourceNameFromPath("政策.csv"), "import");
  EXPECT_EQ((*FormatFromPath("a.jsonl.gz"))->name, "jsonl");
  EXPECT_EQ((*FormatFromPath("a.CSV"))->name, "csv");
  EXPECT_EQ((*FormatFromPath("a.csv.gz"))->name, "csv");
  EXPECT_EQ((*FormatFromPath("a.htm"))->name, "html");
  EXPECT_FALSE(FormatFromPath("a.html.gz").ok());  // Pages are read as they are.
  EXPECT_FALSE(FormatFromPath("a.xlsx").ok());
  EXPECT_FALSE(FindSourceFormat("xml").ok());
  EXPECT_EQ(*FindSourceFormat("auto"), nullptr);
}

}  // namespace
}  // namespace hotline::kb::importers
