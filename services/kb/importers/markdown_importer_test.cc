#include "services/kb/importers/markdown_importer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/test_util.h"

namespace hotline::kb::importers {
namespace {

// A policy page as an editor keeps it: the metadata in front matter, the articles below.
constexpr char kFrontMatterPage[] = R"(---
title: 长沙市住房公积金提取管理办法
文号: 长政办发[2024]12号
agency: 长沙市人民政府办公厅
publish_date: 2024年3月5日
effective_date: 2024-05-01
region: 湖南/长沙
category: 住房保障/住房公积金
url: https://www.changsha.gov.cn/zcfg/12.html
关键词: 公积金、提取
---
# 长沙市住房公积金提取管理办法

## 第一章 总则

第一条 为规范住房公积金提取，制定本办法。

第二条 缴存职工租赁自住住房的，每年可以提取一次。
)";

// The same kind of page without front matter: the title is the first heading, the 文号 and the
// dates stand in the page's own labelled lines.
constexpr char kPlainPage[] = R"(# 湖南省人民政府关于进一步优化营商环境的若干意见

发文字号：湘政发〔2023〕5号　发布日期：2023年5月9日

第一条 为了优化营商环境，制定本意见。
)";

class MarkdownImporterTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& content) {
    std::string path = dir_.Sub(name);
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << content;
    return path;
  }

  // Every record of `path` (read in the format its name says): items, or "error: ..." lines.
  std::vector<std::string> ReadAll(const std::string& path, std::vector<v1::ImportItem>* items) {
    std::vector<std::string> out;
    absl::StatusOr<std::unique_ptr<SourceReader>> reader = OpenSource(path, nullptr);
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return out;
    while (true) {
      absl::StatusOr<std::optional<SourceRecord>> record = (*reader)->Next();
      EXPECT_TRUE(record.ok()) << record.status();
      if (!record.ok() || !record->has_value()) break;
      if ((*record)->item.ok()) {
        out.push_back((*record)->item->source_id());
        items->push_back(*(*record)->item);
      } else {
        out.push_back(absl::StrCat("error: ", (*record)->item.status().message()));
      }
    }
    return out;
  }

  testing::TempDir dir_;
};

TEST_F(MarkdownImporterTest, FrontMatterGivesTheMetadataAndTheBodyIsSentAsMarkdown) {
  absl::StatusOr<v1::ImportItem> item = MarkdownPageToItem(kFrontMatterPage, "gjj.md");
  ASSERT_TRUE(item.ok()) << item.status();
  const v1::Entry& e = item->entry();
  EXPECT_EQ(e.kind(), v1::ENTRY_KIND_POLICY_DOCUMENT);
  EXPECT_EQ(e.title(), "长沙市住房公积金提取管理办法");
  EXPECT_EQ(e.policy_document().doc_number(), "长政办发〔2024〕12号");  // Canonical brackets.
  ASSERT_EQ(e.policy_document().issuing_agencies_size(), 1);
  EXPECT_EQ(e.policy_document().issuing_agencies(0), "长沙市人民政府办公厅");
  EXPECT_EQ(e.policy_document().publish_date(), "2024-03-05");
  EXPECT_EQ(e.policy_document().effective_date(), "2024-05-01");
  EXPECT_EQ(e.region(), "湖南/长沙");
  EXPECT_EQ(e.category_path(), "住房保障/住房公积金");
  EXPECT_EQ(std::vector<std::string>(e.keywords().begin(), e.keywords().end()),
            (std::vector<std::string>{"公积金", "提取"}));
  EXPECT_EQ(item->source_url(), "https://www.changsha.gov.cn/zcfg/12.html");
  EXPECT_EQ(item->source_id(), "gjj.md");
  EXPECT_EQ(item->content().format(), v1::CONTENT_FORMAT_MARKDOWN);
  // The front matter is not content; the articles are.
  EXPECT_EQ(item->content().text().rfind("# 长沙市住房公积金提取管理办法", 0), 0u);
  EXPECT_NE(item->content().text().find("第二条 缴存职工租赁自住住房的"), std::string::npos);
  EXPECT_EQ(item->content().text().find("publish_date"), std::string::npos);
}

TEST_F(MarkdownImporterTest, WithoutFrontMatterTheHeadingAndLabelledLinesAreRead) {
  absl::StatusOr<v1::ImportItem> item = MarkdownPageToItem(kPlainPage, "yj.md");
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->entry().title(), "湖南省人民政府关于进一步优化营商环境的若干意见");
  EXPECT_EQ(item->entry().policy_document().doc_number(), "湘政发〔2023〕5号");
  EXPECT_EQ(item->entry().policy_document().publish_date(), "2023-05-09");
}

TEST_F(MarkdownImporterTest, AMistakeInAPageIsThatPagesErrorNamingTheKey) {
  struct Case {
    std::string page;
    std::string error;
  } cases[] = {
      {"---\ntitel: 办法\n---\n正文", "front matter line 2: unknown key 'titel'"},
      {"---\ntitle: 办法\n", "front matter: no closing '---' line"},
      {"---\ntitle: 办法\n正文", "front matter line 3: not 'key: value'"},
      {"---\ntitle 办法\n---\n", "front matter line 2: not 'key: value'"},
      {"---\ntitle: 办法\npublish_date: 下周\n---\n", "front matter: publish_date: not a date"},
      {"---\ntitle: 办法\n文号: 第五号\n---\n", "front matter: doc_number: not a 文号"},
      {"第一条 没有标题。", "title: none"},
      {"---\ntitle: \xff\xfe\n---\n", "content: not valid UTF-8"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<v1::ImportItem> item = MarkdownPageToItem(c.page, "x.md");
    ASSERT_FALSE(item.ok()) << c.page;
    EXPECT_EQ(item.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(item.status().message().substr(0, c.error.size()), c.error) << item.status();
  }
}

TEST_F(MarkdownImporterTest, ADirectoryOfPagesIsReadInPathOrderAndABadPageDoesNotStopIt) {
  Write("site/b.md", kPlainPage);
  Write("site/a/gjj.markdown", kFrontMatterPage);
  Write("site/c.md", "---\ntitel: x\n---\n");
  Write("site/notes.txt", "not a page");
  std::vector<v1::ImportItem> items;
  EXPECT_EQ(ReadAll(dir_.Sub("site"), &items),
            (std::vector<std::string>{"a/gjj.markdown", "b.md",
                                      "error: front matter line 2: unknown key 'titel' (title, "
                                      "doc_number, agency, publish_date, effective_date, region, "
                                      "category, url, keywords, or their Chinese names)"}));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].entry().policy_document().doc_number(), "长政办发〔2024〕12号");
}

TEST_F(MarkdownImporterTest, TheFormatIsRegisteredByNameAndByFileName) {
  absl::StatusOr<const SourceFormat*> by_name = FindSourceFormat("markdown");
  ASSERT_TRUE(by_name.ok() && *by_name != nullptr);
  EXPECT_EQ((*by_name)->name, "md");
  absl::StatusOr<const SourceFormat*> by_path = FormatFromPath("政策/办法.MD");
  ASSERT_TRUE(by_path.ok()) << by_path.status();
  EXPECT_EQ((*by_path)->name, "md");
  EXPECT_NE(SourceFormatNames().find("md"), std::string::npos);
  // A directory holding pages of two formats cannot be guessed.
  Write("mixed/a.md", kPlainPage);
  Write("mixed/b.html", "<title>t</title>");
  absl::StatusOr<const SourceFormat*> mixed = FormatFromPath(dir_.Sub("mixed"));
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.status().message().find("give --format"), std::string::npos);
}

}  // namespace
}  // namespace hotline::kb::importers
