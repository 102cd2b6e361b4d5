#include "services/kb/importers/html_importer.h"

#include <gtest/gtest.h>
#include <iconv.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "services/kb/importers/formats.h"
#include "tests/support/test_util.h"

namespace hotline::kb::importers {
namespace {

// The page of a provincial government website, with the metadata such sites carry in meta tags.
constexpr char kMetaPage[] = R"(<!DOCTYPE html>
<html><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta name="ArticleTitle" content="湖南省人民政府关于进一步优化营商环境的若干意见">
<meta name="文号" content="湘政发[2023]5号">
<meta name="ContentSource" content="湖 南 省 人 民 政 府">
<meta name="PubDate" content="2023-05-09 10:30">
<meta name="Keywords" content="营商环境，惠企政策">
<link rel="canonical" href="https://www.hunan.gov.cn/zcfg/5.html">
<title>湖南省人民政府关于进一步优化营商环境的若干意见_政策文件_湖南省人民政府门户网站</title>
</head><body><div class="nav">首页 &gt; 政策文件</div>
<h1>意见正文</h1><p>第一条 为了优化营商环境，制定本意见。</p></body></html>)";

// A page without meta tags: the metadata stands in the page's own table, as most sites print it.
constexpr char kLabelledPage[] =
    R"(<html><head><title>长沙市住房公积金提取管理办法 - 长沙市人民政府</title></head>
<body><table class="info">
<tr><td>发文机关：</td><td>长沙市人民政府办公厅</td><td>发文字号：</td><td>长政办发〔2024〕12号</td></tr>
<tr><td>成文日期：</td><td>2024年3月1日</td><td>发布日期：</td><td>2024年3月5日</td></tr>
</table>
<p>第一条 为规范住房公积金提取，制定本办法。</p>
<p>第二条 本办法自2024年5月1日起施行。</p></body></html>)";

class HtmlImporterTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& bytes) {
    std::string path = dir_.Sub(name);
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  testing::TempDir dir_;
};

TEST_F(HtmlImporterTest, MetaTagsGiveTitleDocNumberAgencyDateAndAddress) {
  absl::StatusOr<v1::ImportItem> item = HtmlPageToItem(kMetaPage, "zcfg/5.html");
  ASSERT_TRUE(item.ok()) << item.status();
  const v1::Entry& e = item->entry();
  EXPECT_EQ(item->source_id(), "zcfg/5.html");
  EXPECT_EQ(item->source_url(), "https://www.hunan.gov.cn/zcfg/5.html");
  EXPECT_EQ(e.kind(), v1::ENTRY_KIND_POLICY_DOCUMENT);
  EXPECT_EQ(e.title(), "湖南省人民政府关于进一步优化营商环境的若干意见");  // Not the <h1>.
  EXPECT_EQ(e.policy_document().doc_number(), "湘政发〔2023〕5号");        // Canonical brackets.
  ASSERT_EQ(e.policy_document().issuing_agencies_size(), 1);
  EXPECT_EQ(e.policy_document().issuing_agencies(0), "湖南省人民政府");
  EXPECT_EQ(e.policy_document().publish_date(), "2023-05-09");
  ASSERT_EQ(e.keywords_size(), 2);
  EXPECT_EQ(e.keywords(1), "惠企政策");
  // The page goes whole, for the server's cleaner.
  EXPECT_EQ(item->content().format(), v1::CONTENT_FORMAT_HTML);
  EXPECT_EQ(item->content().text(), kMetaPage);
}

TEST_F(HtmlImporterTest, LabelledLinesOfThePageGiveTheMetadata) {
  absl::StatusOr<v1::ImportItem> item = HtmlPageToItem(kLabelledPage, "gjj.html");
  ASSERT_TRUE(item.ok()) << item.status();
  const v1::PolicyDocument& p = item->entry().policy_document();
  EXPECT_EQ(item->entry().title(), "长沙市住房公积金提取管理办法");  // Site name cut off.
  EXPECT_EQ(p.doc_number(), "长政办发〔2024〕12号");
  ASSERT_GE(p.issuing_agencies_size(), 1);
  EXPECT_EQ(p.issuing_agencies(0), "长沙市人民政府办公厅");
  EXPECT_EQ(p.publish_date(), "2024-03-05");
  EXPECT_EQ(p.effective_date(), "2024-05-01");
}

TEST_F(HtmlImporterTest, TitleFallsBackToTheFirstH1) {
  absl::StatusOr<v1::ImportItem> item = HtmlPageToItem(
      "<html><head><title>首页</title></head><body><h1 class=\"t\">关于&ldquo;一件"
      "事一次办&rdquo;的通知</h1><p>正文</p></body></html>",
      "a.html");
  ASSERT_TRUE(item.ok());
  EXPECT_EQ(item->entry().title(), "关于“一件事一次办”的通知");
}

TEST_F(HtmlImporterTest, GbkPagesAreConvertedToUtf8) {
  std::string utf8 =
      "<html><head><meta charset=\"gb2312\"><title>通知</title></head><body><h1>关于开展"
      "稳岗返还的通知</h1><p>第一条 内容。</p></body></html>";
  iconv_t cd = iconv_open("GB18030", "UTF-8");
  ASSERT_NE(cd, reinterpret_cast<iconv_t>(-1));
  std::string gbk(utf8.size(), '\0');
  char* in = utf8.data();
  size_t in_left = utf8.size();
  char* out = gbk.data();
  size_t out_left = gbk.size();
  ASSERT_NE(iconv(cd, &in, &in_left, &out, &out_left), static_cast<size_t>(-1));
  iconv_close(cd);
  gbk.resize(gbk.size() - out_left);
  ASSERT_NE(gbk, utf8);

  absl::StatusOr<v1::ImportItem> item = HtmlPageToItem(gbk, "gbk.html");
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->entry().title(), "关于开展稳岗返还的通知");
  EXPECT_EQ(item->content().text(), utf8);
}

TEST_F(HtmlImporterTest, InvalidUtf8IsARecordErrorNotACrash) {
  absl::StatusOr<v1::ImportItem> item = HtmlPageToItem("<p>\xff\xfe</p>", "bad.html");
  ASSERT_FALSE(item.ok());
  EXPECT_NE(item.status().message().find("content:"), std::string::npos) << item.status();
}

TEST_F(HtmlImporterTest, ADirectoryGivesEveryPageInPathOrderWithRelativeSourceIds) {
  Write("site/b.html", kLabelledPage);
  Write("site/a/notice.HTM", kMetaPage);
  Write("site/readme.txt", "not a page");
  absl::StatusOr<std::unique_ptr<SourceReader>> reader = OpenSource(dir_.Sub("site"), nullptr);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->defaults().source_name, "site");
  EXPECT_EQ((*reader)->defaults().default_format, v1::CONTENT_FORMAT_HTML);
  EXPECT_EQ((*reader)->Progress().total, 2);
  std::vector<std::string> ids;
  while (true) {
    absl::StatusOr<std::optional<SourceRecord>> record = (*reader)->Next();
    ASSERT_TRUE(record.ok());
    if (!record->has_value()) break;
    ASSERT_TRUE((*record)->item.ok()) << (*record)->origin;
    ids.push_back((*record)->item->source_id());
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"a/notice.HTM", "b.html"}));
  EXPECT_EQ((*reader)->Progress().done, 2);
}

TEST_F(HtmlImporterTest, AMissingPathIsNotFound) {
  absl::StatusOr<std::unique_ptr<SourceReader>> reader =
      OpenSource(dir_.Sub("nowhere.html"), *FindSourceFormat("html"));
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace hotline::kb::importers
