// Cleaning: HTML and Markdown to text lines, normalisation, boilerplate removal, on pages shaped
// like the document columns of Chinese government websites.
#include "services/kb/ingest/cleaner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace hotline::kb::ingest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Normalized(absl::string_view text) {
  absl::StatusOr<std::string> normalized = NormalizeText(text);
  EXPECT_TRUE(normalized.ok()) << normalized.status();
  return normalized.ok() ? *normalized : "";
}

// A policy page as a provincial government website serves it: head, scripts, navigation, a
// breadcrumb, share and print buttons, the article with its info line, a table, and a footer.
constexpr char kPolicyPage[] = R"html(<!DOCTYPE html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <title>关于调整住房公积金提取政策的通知_湖南省人民政府门户网站</title>
  <style>.content p { text-indent: 2em; }</style>
  <script>var _hmt = _hmt || []; document.write("<p>统计代码</p>");</script>
</head>
<body>
<div class="header"><a href="/">湖南省人民政府门户网站</a> <span>无障碍浏览</span></div>
<nav><ul><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li></ul></nav>
<div class="breadcrumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政策文件</a></div>
<div class="content">
  <h1>关于调整住房公积金提取政策的通知</h1>
  <div class="info">发布时间：2023-05-09&nbsp;&nbsp;来源：湖南省住房和城乡建设厅
    【字体：<a>大</a> <a>中</a> <a>小</a>】 【打印本页】</div>
  <p>湘建金〔2023〕5号</p>
  <p>各市州住房公积金中心：</p>
  <p>&emsp;&emsp;为支持缴存职工解决基本住房需求，现就调整住房公积金
     提取政策有关事项通知如下。</p>
  <h2>一、租房提取</h2>
  <p>无房职工租赁住房的，每年可提取&#20303;&#x623F;公积金不超过１２０００元&mdash;&mdash;按&ldquo;实际租金&rdquo;提取。</p>
  <table><tr><th>城市</th><th>年度限额</th></tr><tr><td>长沙</td><td>15000元</td></tr></table>
  <p>本通知自2023年6月1日起施行。</p>
  <!-- 编辑备注：不显示 -->
</div>
<div class="bdshare">分享到：<a>微信</a> <a>微博</a> <a>QQ空间</a></div>
<p>打印本页 关闭窗口</p>
<footer><p>版权所有：湖南省人民政府办公厅 湘ICP备05000000号</p><p>网站地图 | 联系我们</p></footer>
</body>
</html>)html";

TEST(HtmlToTextTest, KeepsTheArticleAsLinesAndHeadings) {
  absl::StatusOr<std::string> text = ToPlainText(kPolicyPage, SourceFormat::kHtml);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text,
            "# 关于调整住房公积金提取政策的通知\n"
            "发布时间：2023-05-09 来源：湖南省住房和城乡建设厅【字体：大 中 小】【打印本页】\n"
            "湘建金〔2023〕5号\n"
            "各市州住房公积金中心：\n"
            "为支持缴存职工解决基本住房需求，现就调整住房公积金提取政策有关事项通知如下。\n"
            "## 一、租房提取\n"
            "无房职工租赁住房的，每年可提取住房公积金不超过12000元——按“实际租金”提取。\n"
            "城市 年度限额\n"
            "长沙 15000元\n"
            "本通知自2023年6月1日起施行。\n"
            "打印本页 关闭窗口");
}

TEST(HtmlToTextTest, BoilerplateRemovalLeavesOnlyTheDocument) {
  absl::StatusOr<std::string> text = ToPlainText(kPolicyPage, SourceFormat::kHtml);
  ASSERT_TRUE(text.ok()) << text.status();
  const BoilerplateRemover remover;
  const std::string body = remover.Remove("hunan.gov.cn", *text);
  EXPECT_THAT(body, Not(HasSubstr("打印本页")));
  EXPECT_THAT(body, Not(HasSubstr("字体")));
  EXPECT_THAT(body, HasSubstr("发布时间：2023-05-09 来源：湖南省住房和城乡建设厅\n"));
  EXPECT_THAT(body, HasSubstr("本通知自2023年6月1日起施行。"));
}

TEST(HtmlToTextTest, HeaderAndFooterInsideAnArticleAreTheArticles) {
  const std::string html =
      "<header>门户网站导航</header><article><header><h1>居住证办理指南</h1></header>"
      "<p>申请居住证需要居住半年以上。</p><footer><p>长沙市公安局</p></footer></article>"
      "<footer>版权所有</footer>";
  EXPECT_EQ(HtmlToText(html), "# 居住证办理指南\n申请居住证需要居住半年以上。\n长沙市公安局\n");
}

TEST(HtmlToTextTest, OnlyFurnitureClassNamesAreDropped) {
  EXPECT_EQ(HtmlToText(
                "<div class=\"top nav-main\">首页</div><div id=\"share_box\">分享</div>"
                "<div class=\"print-content\"><div class=\"header-title\">标题</div>"
                "<div class=\"navigation-guide\">正文</div></div><div class=\"footer\">页脚</div>"),
            "标题\n正文\n");
}

TEST(HtmlToTextTest, PreformattedTextKeepsItsLines) {
  EXPECT_EQ(HtmlToText("<pre>第一行\n  第二行</pre><p>正文</p>"), "第一行\n  第二行\n正文\n");
  EXPECT_EQ(HtmlToText("<h2> <img src=\"logo.png\"> </h2><p>正文</p>"), "正文\n");
}

TEST(HtmlToTextTest, LineBreaksBetweenLatinWordsStaySpaces) {
  EXPECT_EQ(HtmlToText("<p>Social\nSecurity 社保\n卡</p>"), "Social Security 社保卡\n");
  EXPECT_EQ(HtmlToText("<p>a &lt; b<br>c<br/>d</p>"), "a < b\nc\nd\n");
}

TEST(DecodeHtmlEntitiesTest, NamedAndNumericReferences) {
  EXPECT_EQ(DecodeHtmlEntities("&lt;p&gt; &amp; &quot;x&quot; &middot; &hellip;"),
            "<p> & \"x\" · …");
  EXPECT_EQ(DecodeHtmlEntities("&#20303;&#x623F;&#X516C;&#31215;&#37329;"), "住房公积金");
  EXPECT_EQ(DecodeHtmlEntities("&#20303房"), "住房");  // without ';', as browsers read it
  EXPECT_EQ(DecodeHtmlEntities("&nbsp;"), "\u00A0");
  // Unknown names stay; references to non-characters become U+FFFD.
  EXPECT_EQ(DecodeHtmlEntities("&unknown; &amp"), "&unknown; &amp");
  EXPECT_EQ(DecodeHtmlEntities("&#0;&#xD800;&#x110000;"), "\uFFFD\uFFFD\uFFFD");
}

TEST(MarkdownToTextTest, StripsMarkupKeepsStructure) {
  const std::string markdown =
      "# 长沙市住房公积金提取管理办法\n"
      "\n"
      "第一章 总则\n"
      "=========\n"
      "\n"
      "**第一条** 为规范住房公积金提取，根据[《住房公积金管理条例》](http://www.gov.cn/x)，\n"
      "结合本市实际，制定本办法。\n"
      "\n"
      "![图片](a.png)\n"
      "> 提示：办理渠道见`一网通办`。\n"
      "\n"
      "- 本人身份证\n"
      "* 租房合同\n"
      "1. 线上办理\n"
      "\n"
      "| 材料 | 份数 |\n"
      "|:----|----:|\n"
      "| 身份证 | 1 |\n"
      "\n"
      "---\n"
      "```\n"
      "代码 *原样*\n"
      "```\n"
      "公式 5*3 与 a_b 和 约~5天\n";
  EXPECT_EQ(MarkdownToText(markdown),
            "# 长沙市住房公积金提取管理办法\n"
            "# 第一章 总则\n"
            "第一条 为规范住房公积金提取，根据《住房公积金管理条例》，结合本市实际，制定本办法。\n"
            "提示：办理渠道见一网通办。\n"
            "本人身份证\n"
            "租房合同\n"
            "1. 线上办理\n"
            "材料 份数\n"
            "身份证 1\n"
            "代码 *原样*\n"
            "公式 5*3 与 a_b 和 约~5天");
}

TEST(NormalizeTextTest, WidthAndWhitespace) {
  EXPECT_EQ(Normalized("２０２３年ＡＢＣ　公司"), "2023年ABC 公司");
  EXPECT_EQ(Normalized("  多个   空格\t和制表符  \r\n\r\n\n下一行 "), "多个 空格 和制表符\n下一行");
  EXPECT_EQ(Normalized("零\u200B宽\uFEFF字符"), "零宽字符");
  EXPECT_EQ(Normalized("比例为８０％，限额／年"), "比例为80%，限额/年");
}

TEST(NormalizeTextTest, ChinesePunctuation) {
  EXPECT_EQ(Normalized("办理时间:工作日,地点;政务中心?是的!"),
            "办理时间：工作日，地点；政务中心？是的！");
  EXPECT_EQ(Normalized("湘政发(2023)5号"), "湘政发（2023）5号");
  EXPECT_EQ(Normalized("提取(租房)和 (note)"), "提取（租房）和（note）");
  EXPECT_EQ(Normalized("好。。 再见，，"), "好。再见，");
  EXPECT_EQ(Normalized("办理 ， 地点 ：大厅"), "办理，地点：大厅");
  // ASCII contexts stay ASCII.
  EXPECT_EQ(Normalized("http://www.hunan.gov.cn/a?b=1, 10:30, 5,000"),
            "http://www.hunan.gov.cn/a?b=1, 10:30, 5,000");
  EXPECT_EQ(Normalized("(2023) 5,000 元"), "(2023) 5,000 元");
}

TEST(NormalizeTextTest, LetterSpacedLinesCloseUp) {
  EXPECT_EQ(Normalized("通 知"), "通知");
  EXPECT_EQ(Normalized("湖 南 省 人 民 政 府"), "湖南省人民政府");
  // Separate names or words on one line stay separate.
  EXPECT_EQ(Normalized("湖南省人民政府 湖南省财政厅"), "湖南省人民政府 湖南省财政厅");
  EXPECT_EQ(Normalized("第三条 职工缴存住房公积金"), "第三条 职工缴存住房公积金");
}

TEST(NormalizeTextTest, InvalidUtf8IsAnErrorWithTheOffset) {
  absl::StatusOr<std::string> text = NormalizeText("住房\xE5\x85公积金");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(text.status().message()), HasSubstr("byte offset 6"));
  EXPECT_FALSE(ToPlainText("<p>\xFF</p>", SourceFormat::kHtml).ok());
}

TEST(BoilerplateTest, GenericLines) {
  const BoilerplateRemover remover;
  for (const char* line :
       {"打印本页 关闭窗口", "【字体：大 中 小】", "[打印本页] [关闭窗口]",
        "分享到：微信 微博 QQ空间", "当前位置：首页 > 政务公开 > 政策文件",
        "版权所有：长沙市人民政府 技术支持：某某公司",
        "湘ICP备05000000号 湘公网安备43010202000000号", "网站标识码4300000000",
        "网站地图 | 联系我们", "上一篇：关于做好2023年社保年审的通知",
        "Copyright © 2023 All Rights Reserved", "扫一扫在手机打开当前页", "【我要纠错】"}) {
    EXPECT_TRUE(remover.IsGenericBoilerplate(line)) << line;
  }
  for (const char* line :
       {"第五条 职工可以提取住房公积金。", "联系电话：0731-12345", "办理地点：市政务服务中心",
        "中小微企业", "大中型企业职工", "建议使用电子社保卡办理"}) {
    EXPECT_FALSE(remover.IsGenericBoilerplate(line)) << line;
  }
}

TEST(BoilerplateTest, FurnitureGroupsAreCutOutOfContentLines) {
  const BoilerplateRemover remover;
  EXPECT_EQ(remover.Remove("s", "发布日期：2023-05-09 【字体：大 中 小】【打印】[关闭]\n正文"),
            "发布日期：2023-05-09\n正文");
  // A bracketed group with content stays.
  EXPECT_EQ(remover.Remove("s", "【政策解读】住房公积金新政"), "【政策解读】住房公积金新政");
}

TEST(BoilerplateTest, ShortLinesRepeatedAcrossASourceAreFurniture) {
  BoilerplateRemover remover;
  const std::string footer = "\n长沙市医疗保障局主办\n本网站由市医保局信息中心维护";
  const std::string documents[] = {
      "# 职工医保门诊统筹政策解读\n门诊统筹起付线为200元。" + footer,
      "# 城乡居民医保缴费通知\n2024年度个人缴费标准为380元。" + footer,
      "# 异地就医备案指南\n可通过国家医保服务平台备案。" + footer,
      "# 医保电子凭证使用说明\n就医时出示医保码即可。" + footer,
  };
  for (const std::string& document : documents) remover.Observe("csyb.changsha.gov.cn", document);
  remover.Observe("other.gov.cn", documents[0]);

  EXPECT_TRUE(remover.IsRepeatedInSource("csyb.changsha.gov.cn", "长沙市医疗保障局主办"));
  EXPECT_FALSE(remover.IsRepeatedInSource("csyb.changsha.gov.cn", "门诊统筹起付线为200元。"));
  // Another source has not seen the line often enough.
  EXPECT_FALSE(remover.IsRepeatedInSource("other.gov.cn", "长沙市医疗保障局主办"));
  EXPECT_EQ(remover.Remove("csyb.changsha.gov.cn", documents[1]),
            "# 城乡居民医保缴费通知\n2024年度个人缴费标准为380元。");
  EXPECT_EQ(remover.Remove("other.gov.cn", documents[1]), documents[1]);
}

TEST(BoilerplateTest, RepeatedLineRuleNeedsEnoughDocuments) {
  BoilerplateRemover remover;
  remover.Observe("small", "标题一\n共同的一行");
  remover.Observe("small", "标题二\n共同的一行");
  EXPECT_FALSE(remover.IsRepeatedInSource("small", "共同的一行"));  // 2 < min_repeated_documents
}

}  // namespace
}  // namespace hotline::kb::ingest
