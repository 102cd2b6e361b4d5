#include "services/kb/importers/csv_importer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "services/kb/importers/csv.h"
#include "services/kb/importers/formats.h"
#include "services/kb/importers/source.h"
#include "tests/support/test_util.h"

namespace hotline::kb::importers {
namespace {

class CsvImporterTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& bytes) {
    std::string path = dir_.Sub(name);
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  // Every record of the file; the reader must open.
  std::vector<SourceRecord> ReadAll(const std::string& path) {
    absl::StatusOr<std::unique_ptr<SourceReader>> reader = OpenSource(path, nullptr);
    EXPECT_TRUE(reader.ok()) << reader.status();
    std::vector<SourceRecord> out;
    if (!reader.ok()) return out;
    while (true) {
      absl::StatusOr<std::optional<SourceRecord>> record = (*reader)->Next();
      EXPECT_TRUE(record.ok()) << record.status();
      if (!record.ok() || !record->has_value()) break;
      out.push_back(**std::move(record));
    }
    return out;
  }

  testing::TempDir dir_;
};

TEST_F(CsvImporterTest, QuotedFieldsKeepCommasLineBreaksAndQuotes) {
  // A spreadsheet's export: BOM, CRLF, a title with a comma, a body over several lines with
  // quotes written twice.
  std::string path = Write("policies.csv",
                           "\xEF\xBB\xBFid,title,doc_number,issuing_agency,publish_date,body\r\n"
                           "p1,\"关于稳岗返还的通知,2026年\",长人社发〔2026〕3号,长沙市人力资源和"
                           "社会保障局,2026-02-01,\"第一条 企业申请\"\"稳岗返还\"\"。\r\n"
                           "第二条 返还比例为60%。\"\r\n");
  std::vector<SourceRecord> records = ReadAll(path);
  ASSERT_EQ(records.size(), 1u);
  ASSERT_TRUE(records[0].item.ok()) << records[0].item.status();
  const v1::ImportItem& item = *records[0].item;
  EXPECT_EQ(records[0].origin, path + ":2");
  EXPECT_EQ(item.source_id(), "p1");
  EXPECT_EQ(item.entry().id(), "p1");
  EXPECT_EQ(item.entry().kind(), v1::ENTRY_KIND_POLICY_DOCUMENT);
  EXPECT_EQ(item.entry().title(), "关于稳岗返还的通知,2026年");
  EXPECT_EQ(item.entry().policy_document().doc_number(), "长人社发〔2026〕3号");
  ASSERT_EQ(item.entry().policy_document().issuing_agencies_size(), 1);
  EXPECT_EQ(item.entry().policy_document().publish_date(), "2026-02-01");
  EXPECT_EQ(item.content().text(), "第一条 企业申请\"稳岗返还\"。\n第二条 返还比例为60%。");
  EXPECT_EQ(item.content().format(), v1::CONTENT_FORMAT_PLAIN_TEXT);
}

TEST_F(CsvImporterTest, KindColumnMixesPoliciesQaPairsAndGuidesWithListCells) {
  std::string path = Write(
      "mixed.csv",
      "kind,id,title,question,answer,source_entry_id,source_passage,alternative_questions,"
      "matter,department,channels,materials,promised_working_days,policy_ids,tags,body\n"
      "policy,p1,住房公积金提取办法,,,,,,,,,,,,公积金|住房,第一条 职工可以提取。\n"
      "qa,q1,,公积金怎么提取？,携带身份证到窗口办理。,p1,第一条,怎么取公积金| 公积金提取流程 "
      ",,,,,,,,\n"
      "guide,g1,,,,,,,住房公积金提取,长沙住房公积金管理中心,online|window,身份证|银行卡,5,p1,,\n");
  std::vector<SourceRecord> records = ReadAll(path);
  ASSERT_EQ(records.size(), 3u);
  for (const SourceRecord& r : records) ASSERT_TRUE(r.item.ok()) << r.origin << r.item.status();
  EXPECT_EQ(records[0].item->entry().tags_size(), 2);
  const v1::Entry& qa = records[1].item->entry();
  EXPECT_EQ(qa.kind(), v1::ENTRY_KIND_QA_PAIR);
  EXPECT_EQ(qa.qa_pair().question(), "公积金怎么提取？");
  EXPECT_EQ(qa.qa_pair().source_document_id(), "p1");
  EXPECT_EQ(qa.qa_pair().source_passage_label(), "第一条");
  ASSERT_EQ(qa.qa_pair().alternative_questions_size(), 2);
  EXPECT_EQ(qa.qa_pair().alternative_questions(1), "公积金提取流程");  // Trimmed.
  const v1::Entry& guide = records[2].item->entry();
  EXPECT_EQ(guide.kind(), v1::ENTRY_KIND_SERVICE_GUIDE);
  EXPECT_EQ(guide.title(), "住房公积金提取");  // The matter, when no title is given.
  EXPECT_EQ(guide.service_guide().channels_size(), 2);
  ASSERT_EQ(guide.service_guide().materials_size(), 2);
  EXPECT_TRUE(guide.service_guide().materials(1).required());
  EXPECT_EQ(guide.service_guide().promised_limit_working_days(), 5);
  ASSERT_EQ(guide.links_size(), 1);
  EXPECT_EQ(guide.links(0).relation(), v1::LINK_RELATION_BASIS);
}

TEST_F(CsvImporterTest, KindFollowsFromTheColumnsWithoutAKindColumn) {
  std::vector<SourceRecord> qa =
      ReadAll(Write("qa.csv", "id,question,answer\nq1,起付线是多少？,800元。\n"));
  ASSERT_EQ(qa.size(), 1u);
  EXPECT_EQ(qa[0].item->entry().kind(), v1::ENTRY_KIND_QA_PAIR);
  std::vector<SourceRecord> guides =
      ReadAll(Write("guides.csv", "source_id,matter,department\ng1,落户,公安局\n"));
  ASSERT_EQ(guides.size(), 1u);
  EXPECT_EQ(guides[0].item->entry().kind(), v1::ENTRY_KIND_SERVICE_GUIDE);
  EXPECT_EQ(guides[0].item->source_id(), "g1");
  EXPECT_EQ(guides[0].item->entry().id(), "");  // No id column: the server assigns one.
}

TEST_F(CsvImporterTest, UnknownColumnsAreAnErrorNamingThem) {
  absl::StatusOr<std::unique_ptr<SourceReader>> reader =
      OpenSource(Write("bad.csv", "id,title,文号,colour\np1,标题,x,y\n"), *FindSourceFormat("csv"));
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(reader.status().message().find("unknown columns 文号, colour"), std::string::npos)
      << reader.status();
  EXPECT_NE(reader.status().message().find("doc_number"), std::string::npos);  // Lists known ones.
}

TEST_F(CsvImporterTest, WithoutAnIdColumnReImportsCouldNotBeRecognised) {
  absl::StatusOr<std::unique_ptr<SourceReader>> reader =
      OpenSource(Write("noid.csv", "title,body\nt,b\n"), *FindSourceFormat("csv"));
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.status().message().find("id or source_id"), std::string::npos);
}

TEST_F(CsvImporterTest, MalformedRowsAreReportedWithTheirLineAndTheOthersStillGo) {
  std::string path = Write("rows.csv",
                           "id,title,body\n"
                           "p1,\"two\nlines\",正文一\n"   // lines 2-3
                           "p2,too,many,fields\n"         // line 4
                           "p3,a \"quoted\" word,正文\n"  // line 5: stray quote
                           "\n"                           // line 6: skipped
                           "p4,\"closed\"x,正文\n"        // line 7: text after quote
                           "p5,fine,正文五\n"             // line 8
                           "p6,ok,\"never closed\n");     // line 9
  std::vector<SourceRecord> records = ReadAll(path);
  ASSERT_EQ(records.size(), 6u);
  EXPECT_TRUE(records[0].item.ok());
  EXPECT_EQ(records[0].item->entry().title(), "two\nlines");
  EXPECT_EQ(records[1].origin, path + ":4");
  EXPECT_EQ(records[1].item.status().message(), "line 4: 4 fields, but the header names 3 columns");
  EXPECT_EQ(records[2].origin, path + ":5");
  EXPECT_NE(records[2].item.status().message().find("line 5: field 2 has a quote"),
            std::string::npos);
  EXPECT_NE(records[3].item.status().message().find("line 7: field 2 has text after its closing"),
            std::string::npos);
  ASSERT_TRUE(records[4].item.ok());
  EXPECT_EQ(records[4].item->source_id(), "p5");
  EXPECT_EQ(records[4].origin, path + ":8");
  EXPECT_NE(records[5].item.status().message().find("line 9: the quoted field 3 is not closed"),
            std::string::npos);
}

TEST_F(CsvImporterTest, BadCellValuesNameTheColumn) {
  std::vector<SourceRecord> records =
      ReadAll(Write("g.csv",
                    "id,kind,matter,promised_working_days,channels\n"
                    "g1,guide,落户,五天,window\n"
                    "g2,guide,落户,5,by_pigeon\n"
                    "x1,leaflet,,,\n"));
  ASSERT_EQ(records.size(), 3u);
  EXPECT_NE(records[0].item.status().message().find("line 2: promised_working_days"),
            std::string::npos)
      << records[0].item.status();
  EXPECT_NE(records[1].item.status().message().find("channels: unknown channel 'by_pigeon'"),
            std::string::npos);
  EXPECT_NE(records[2].item.status().message().find("kind: unknown kind 'leaflet'"),
            std::string::npos);
}

// Found by fuzzing: a cell that is not UTF-8 went into the item as it was, and the server could
// not parse the item (the whole import stream broke), or, in a number column, the error
// message itself threw. Now that row is an error naming its column; the others still go.
TEST_F(CsvImporterTest, ACellThatIsNotUtf8IsAnErrorOfItsRowNamingTheColumn) {
  std::vector<SourceRecord> records = ReadAll(Write("g.csv",
                                                    "id,matter,promised_working_days\n"
                                                    "g-1,\xb0\xec\xc0\xed,5\n"
                                                    "g-2,办理,\xff\n"
                                                    "g-3,办理,5\n"));
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].item.status().message(),
            "line 2: matter: not valid UTF-8 (a file saved as GBK? save it as UTF-8)");
  EXPECT_EQ(records[1].item.status().message(),
            "line 3: promised_working_days: not valid UTF-8 (a file saved as GBK? save it as "
            "UTF-8)");
  ASSERT_TRUE(records[2].item.ok()) << records[2].item.status();
  std::string wire;
  EXPECT_TRUE(records[2].item->SerializeToString(&wire));
}

TEST_F(CsvImporterTest, ProgressIsBytesOfTheFile) {
  std::string path = Write("p.csv", "id,title\na,1\nb,2\n");
  absl::StatusOr<std::unique_ptr<SourceReader>> reader = OpenSource(path, nullptr);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->defaults().source_name, "p");
  while (true) {
    auto record = (*reader)->Next();
    ASSERT_TRUE(record.ok());
    if (!record->has_value()) break;
  }
  EXPECT_EQ((*reader)->Progress().total, 17);
  EXPECT_EQ((*reader)->Progress().done, 17);
}

TEST(CsvReaderTest, EmptyFieldsAndQuotedEmptyFields) {
  testing::TempDir dir;
  std::string path = dir.Sub("e.csv");
  std::ofstream(path) << ",\"\",a,\n";
  auto lines = LineReader::Open(path);
  ASSERT_TRUE(lines.ok());
  CsvReader csv(*std::move(lines));
  auto record = csv.Next();
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ(*(*record)->fields, (std::vector<std::string>{"", "", "a", ""}));
}

}  // namespace
}  // namespace hotline::kb::importers
