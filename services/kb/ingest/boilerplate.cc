// Boilerplate removal (BoilerplateRemover): the phrases and lines a site repeats around every
// page (navigation, footers, share prompts), found across a batch and removed from each page.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/kb/ingest/cleaner.h"
#include "services/kb/ingest/internal/unicode.h"

namespace hotline::kb::ingest {

using ingest_internal::CodePointCount;
using ingest_internal::DecodeUtf8;
using ingest_internal::FoldWidth;
using ingest_internal::IsAlnum;

namespace {

// Reduces text to lower-case letters and digits, the form furniture phrases are compared in.
std::u32string Reduce(std::u32string_view text) {
  std::u32string out;
  for (char32_t c : text) {
    c = FoldWidth(c);
    if (!IsAlnum(c)) continue;
    if (c >= 'A' && c <= 'Z') c = c - 'A' + 'a';
    out.push_back(c);
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Boilerplate

BoilerplateOptions BoilerplateOptions::Defaults() {
  BoilerplateOptions options;
  options.phrases = {
      "打印本页",     "打印此页", "打印正文",   "打印",     "关闭窗口", "关闭本页",
      "关闭",         "返回顶部", "返回首页",   "返回列表", "返回",     "首页",
      "收藏本页",     "加入收藏", "收藏",       "设为首页", "分享到",   "分享",
      "微信",         "微博",     "新浪微博",   "腾讯微博", "qq空间",   "qq",
      "朋友圈",       "豆瓣",     "字体",       "字号",     "大",       "中",
      "小",           "默认",     "网站地图",   "联系我们", "版权声明", "隐私声明",
      "免责声明",     "使用帮助", "无障碍浏览", "无障碍",   "长者模式", "关怀版",
      "繁体",         "简体",     "繁體",       "english",  "扫一扫",   "扫一扫在手机打开当前页",
      "在手机上查看", "手机版",   "我要纠错",   "纠错",     "登录",     "注册",
      "站内搜索",     "搜索",     "网站导航",   "政务微博", "政务微信", "相关链接",
      "相关阅读",     "相关文章", "视力保护色", "下载",     "附件下载"};
  options.line_prefixes = {"当前位置", "您当前的位置", "您的位置", "您现在的位置", "当前所在位置",
                           "所在位置", "上一篇",       "下一篇",   "上一条",       "下一条",
                           "责任编辑", "浏览次数",     "阅读次数", "访问次数",     "点击数",
                           "点击次数", "阅读量",       "浏览量",   "【字体",       "字体：",
                           "字号：",   "分享到",       "扫一扫"};
  options.line_markers = {"版权所有",   "ICP备",      "ICP证",   "公网安备",
                          "网站标识码", "Copyright",  "©",       "All Rights Reserved",
                          "技术支持：", "分辨率浏览", "最佳浏览"};
  return options;
}

BoilerplateRemover::BoilerplateRemover(BoilerplateOptions options) : options_(std::move(options)) {
  for (const std::string& phrase : options_.phrases) {
    absl::StatusOr<std::u32string> decoded = DecodeUtf8(phrase);
    if (!decoded.ok()) continue;  // a phrase that is not UTF-8 can never match UTF-8 text
    std::u32string reduced = Reduce(*decoded);
    if (reduced.empty()) continue;
    longest_phrase_ = std::max(longest_phrase_, reduced.size());
    phrases_.insert(std::move(reduced));
  }
}

bool BoilerplateRemover::CoveredByPhrases(absl::string_view text) const {
  // Furniture is short; a paragraph is never made of furniture phrases alone.
  if (CodePointCount(text) > options_.max_marker_line_chars) return false;
  absl::StatusOr<std::u32string> decoded = DecodeUtf8(text);
  if (!decoded.ok()) return false;
  const std::u32string reduced = Reduce(*decoded);
  if (reduced.empty()) return false;
  // covered[i]: reduced[0, i) splits into phrases.
  std::vector<bool> covered(reduced.size() + 1, false);
  covered[0] = true;
  for (size_t i = 0; i < reduced.size(); ++i) {
    if (!covered[i]) continue;
    for (size_t n = 1; n <= longest_phrase_ && i + n <= reduced.size(); ++n) {
      if (phrases_.contains(reduced.substr(i, n))) covered[i + n] = true;
    }
  }
  return covered[reduced.size()];
}

bool BoilerplateRemover::IsGenericBoilerplate(absl::string_view line) const {
  line = absl::StripAsciiWhitespace(line);
  if (line.empty()) return false;
  for (const std::string& prefix : options_.line_prefixes) {
    if (absl::StartsWith(line, prefix)) return true;
  }
  if (CodePointCount(line) <= options_.max_marker_line_chars) {
    const std::string lower = absl::AsciiStrToLower(line);
    for (const std::string& marker : options_.line_markers) {
      if (absl::StrContains(lower, absl::AsciiStrToLower(marker))) return true;
    }
  }
  return CoveredByPhrases(line);
}

bool BoilerplateRemover::IsRepeatedInSource(absl::string_view source,
                                            absl::string_view line) const {
  const auto it = sources_.find(source);
  if (it == sources_.end()) return false;
  const SourceStats& stats = it->second;
  if (stats.documents < options_.min_repeated_documents) return false;
  const auto line_it = stats.line_documents.find(absl::StripAsciiWhitespace(line));
  if (line_it == stats.line_documents.end()) return false;
  return line_it->second >= options_.min_repeated_documents &&
         line_it->second >= options_.min_repeated_fraction * stats.documents;
}

void BoilerplateRemover::Observe(absl::string_view source, absl::string_view text) {
  SourceStats& stats = sources_[source];
  ++stats.documents;
  absl::flat_hash_set<absl::string_view> seen;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || CodePointCount(line) > options_.max_repeated_line_chars) continue;
    if (seen.insert(line).second) ++stats.line_documents[line];
  }
}

std::string BoilerplateRemover::CutFurnitureGroups(absl::string_view line) const {
  // 【...】, [...] and 〖...〗 groups: "发布时间：2023-05-09 【字体：大 中 小】【打印本页】".
  static constexpr std::pair<const char*, const char*> kBrackets[] = {
      {"【", "】"}, {"[", "]"}, {"〖", "〗"}};
  std::string out(line);
  for (const auto& [open_chars, close_chars] : kBrackets) {
    const std::string open = open_chars;
    const std::string close = close_chars;
    size_t from = 0;
    while (true) {
      const size_t begin = out.find(open, from);
      if (begin == std::string::npos) break;
      const size_t end = out.find(close, begin + open.size());
      if (end == std::string::npos) break;
      const absl::string_view inside =
          absl::string_view(out).substr(begin + open.size(), end - begin - open.size());
      if (CoveredByPhrases(inside)) {
        out.erase(begin, end + close.size() - begin);
        from = begin;
      } else {
        from = end + close.size();
      }
    }
  }
  return std::string(absl::StripAsciiWhitespace(out));
}

std::string BoilerplateRemover::Remove(absl::string_view source, absl::string_view text) const {
  std::string out;
  out.reserve(text.size());
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || IsGenericBoilerplate(line) || IsRepeatedInSource(source, line)) continue;
    const std::string kept = CutFurnitureGroups(line);
    if (kept.empty()) continue;
    if (!out.empty()) out.push_back('\n');
    out.append(kept);
  }
  return out;
}

}  // namespace hotline::kb::ingest
