#include "services/kb/importers/html_importer.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/kb/importers/pages.h"
#include "services/kb/ingest/cleaner.h"
#include "services/kb/ingest/metadata.h"

namespace hotline::kb::importers {
namespace {

// Case-insensitive find of ASCII `needle` in `haystack` from `from`.
size_t FindNoCase(absl::string_view haystack, absl::string_view needle, size_t from = 0) {
  if (needle.size() > haystack.size()) return absl::string_view::npos;
  for (size_t i = from; i + needle.size() <= haystack.size(); ++i) {
    if (absl::EqualsIgnoreCase(haystack.substr(i, needle.size()), needle)) return i;
  }
  return absl::string_view::npos;
}

using Attributes = std::vector<std::pair<std::string, std::string>>;

// The attributes of the tag whose name ends at `pos` (just after "<meta"), up to its '>'.
Attributes ParseAttributes(absl::string_view html, size_t pos) {
  Attributes out;
  size_t end = html.find('>', pos);
  if (end == absl::string_view::npos) return out;
  absl::string_view tag = html.substr(pos, end - pos);
  size_t i = 0;
  auto skip_space = [&] {
    while (i < tag.size() && (absl::ascii_isspace(tag[i]) || tag[i] == '/')) ++i;
  };
  while (true) {
    skip_space();
    if (i >= tag.size()) break;
    size_t name_start = i;
    while (i < tag.size() && !absl::ascii_isspace(tag[i]) && tag[i] != '=' && tag[i] != '/') ++i;
    std::string name = absl::AsciiStrToLower(tag.substr(name_start, i - name_start));
    while (i < tag.size() && absl::ascii_isspace(tag[i])) ++i;
    std::string value;
    if (i < tag.size() && tag[i] == '=') {
      ++i;
      while (i < tag.size() && absl::ascii_isspace(tag[i])) ++i;
      if (i < tag.size() && (tag[i] == '"' || tag[i] == '\'')) {
        char quote = tag[i++];
        size_t close = tag.find(quote, i);
        if (close == absl::string_view::npos) close = tag.size();
        value = std::string(tag.substr(i, close - i));
        i = close + 1;
      } else {
        size_t value_start = i;
        while (i < tag.size() && !absl::ascii_isspace(tag[i])) ++i;
        value = std::string(tag.substr(value_start, i - value_start));
      }
    }
    if (name.empty()) {
      ++i;  // Not an attribute; step over the character.
      continue;
    }
    out.emplace_back(std::move(name), ingest::DecodeHtmlEntities(value));
  }
  return out;
}

std::string Attribute(const Attributes& attributes, absl::string_view name) {
  for (const auto& [n, v] : attributes) {
    if (n == name) return v;
  }
  return "";
}

// Every tag `<name ...>` of the page with its attributes.
std::vector<Attributes> Tags(absl::string_view html, absl::string_view name) {
  std::vector<Attributes> out;
  std::string open = absl::StrCat("<", name);
  for (size_t pos = FindNoCase(html, open); pos != absl::string_view::npos;
       pos = FindNoCase(html, open, pos + open.size())) {
    size_t after = pos + open.size();
    if (after < html.size() && !absl::ascii_isspace(html[after]) && html[after] != '/' &&
        html[after] != '>') {
      continue;  // <metadata>, <linkage>: another element.
    }
    out.push_back(ParseAttributes(html, after));
  }
  return out;
}

// The text inside the first <name>...</name>, markup removed, entities decoded, whitespace
// collapsed; empty if there is none.
std::string ElementText(absl::string_view html, absl::string_view name) {
  std::string open = absl::StrCat("<", name);
  for (size_t pos = FindNoCase(html, open); pos != absl::string_view::npos;
       pos = FindNoCase(html, open, pos + 1)) {
    size_t after = pos + open.size();
    if (after >= html.size() || (html[after] != '>' && !absl::ascii_isspace(html[after]))) continue;
    size_t start = html.find('>', after);
    if (start == absl::string_view::npos) return "";
    size_t end = FindNoCase(html, absl::StrCat("</", name), start);
    if (end == absl::string_view::npos) return "";
    std::string text;
    bool in_tag = false;
    for (char c : html.substr(start + 1, end - start - 1)) {
      if (c == '<') in_tag = true;
      if (!in_tag) text += c;
      if (c == '>') in_tag = false;
    }
    text = ingest::DecodeHtmlEntities(text);
    std::string collapsed;
    for (absl::string_view word :
         absl::StrSplit(text, absl::ByAnyChar(" \t\r\n"), absl::SkipEmpty())) {
      if (!collapsed.empty()) collapsed += ' ';
      absl::StrAppend(&collapsed, word);
    }
    // &nbsp; decodes to U+00A0 and U+3000 pads Chinese headings; neither belongs in a title.
    absl::StrReplaceAll({{"\u00a0", ""}, {"\u3000", ""}}, &collapsed);
    return std::string(absl::StripAsciiWhitespace(collapsed));
  }
  return "";
}

// "关于...的通知_政策文件_长沙市人民政府" -> "关于...的通知".
std::string WithoutSiteName(std::string title) {
  for (absl::string_view separator : {"_", " - ", " | ", "｜", " — "}) {
    size_t at = title.find(separator.data(), 0, separator.size());
    if (at != std::string::npos && at > 0) title.resize(at);
  }
  return std::string(absl::StripAsciiWhitespace(title));
}

// The charset a page declares (<meta charset> or http-equiv content-type), lowercased.
std::string DeclaredCharset(absl::string_view html) {
  for (const Attributes& meta : Tags(html.substr(0, std::min<size_t>(html.size(), 4096)), "meta")) {
    std::string charset = Attribute(meta, "charset");
    if (charset.empty()) {
      std::string content = absl::AsciiStrToLower(Attribute(meta, "content"));
      if (size_t at = content.find("charset="); at != std::string::npos) {
        charset = content.substr(at + 8);
      }
    }
    if (!charset.empty()) return absl::AsciiStrToLower(absl::StripAsciiWhitespace(charset));
  }
  return "";
}

// GB18030 is a superset of GBK and GB2312, so one conversion serves all three.
absl::StatusOr<std::string> Gb18030ToUtf8(absl::string_view in) {
  iconv_t cd = iconv_open("UTF-8", "GB18030");
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    return absl::UnavailableError("this system cannot convert GB18030 (iconv)");
  }
  std::string out(in.size() * 2 + 16, '\0');
  char* src = const_cast<char*>(in.data());
  size_t src_left = in.size();
  char* dst = out.data();
  size_t dst_left = out.size();
  absl::Status status;
  while (src_left > 0) {
    if (iconv(cd, &src, &src_left, &dst, &dst_left) != static_cast<size_t>(-1)) break;
    if (errno == E2BIG) {
      size_t used = dst - out.data();
      out.resize(out.size() * 2);
      dst = out.data() + used;
      dst_left = out.size() - used;
      continue;
    }
    status = absl::InvalidArgumentError(absl::StrCat(
        "not valid GB18030 at byte ", in.size() - src_left, " although the page declares it"));
    break;
  }
  iconv_close(cd);
  if (!status.ok()) return status;
  out.resize(dst - out.data());
  return out;
}

}  // namespace

absl::StatusOr<v1::ImportItem> HtmlPageToItem(absl::string_view raw, const std::string& source_id) {
  std::string converted;
  std::string charset = DeclaredCharset(raw);
  if (charset == "gbk" || charset == "gb2312" || charset == "gb18030") {
    absl::StatusOr<std::string> utf8 = Gb18030ToUtf8(raw);
    if (!utf8.ok()) return utf8.status();
    converted = *std::move(utf8);
    raw = converted;
  }
  absl::string_view html = raw;

  std::string title, doc_number, agency, publish_date, url;
  std::vector<std::string> keywords;
  for (const Attributes& meta : Tags(html, "meta")) {
    std::string name = absl::AsciiStrToLower(Attribute(meta, "name"));
    std::string property = absl::AsciiStrToLower(Attribute(meta, "property"));
    std::string content(absl::StripAsciiWhitespace(Attribute(meta, "content")));
    if (content.empty()) continue;
    if (name == "articletitle" && title.empty()) {
      title = content;
    } else if ((name == "文号" || name == "发文字号" || name == "docnumber") &&
               doc_number.empty()) {
      if (auto number = ingest::ParseDocNumber(content)) doc_number = number->Canonical();
    } else if ((name == "发文机关" || name == "contentsource") && agency.empty()) {
      std::string normalized = ingest::NormalizeAgencyName(content);
      if (ingest::LooksLikeAgency(normalized)) agency = normalized;
    } else if ((name == "pubdate" || name == "发布日期" || name == "publishdate") &&
               publish_date.empty()) {
      std::vector<ingest::DateMatch> dates = ingest::FindDates(content);
      if (!dates.empty()) publish_date = dates.front().date;
    } else if (name == "keywords") {
      // ByAnyChar splits at bytes, so the Chinese separators become ASCII ones first.
      std::string separated = absl::StrReplaceAll(content, {{"，", ","}, {"；", ","}, {"、", ","}});
      for (absl::string_view k :
           absl::StrSplit(separated, absl::ByAnyChar(",; "), absl::SkipEmpty())) {
        keywords.emplace_back(k);
      }
    } else if (property == "og:url" && url.empty()) {
      url = content;
    }
  }
  for (const Attributes& link : Tags(html, "link")) {
    if (absl::AsciiStrToLower(Attribute(link, "rel")) == "canonical" && url.empty()) {
      url = Attribute(link, "href");
    }
  }
  if (title.empty()) title = ElementText(html, "h1");
  if (title.empty()) title = WithoutSiteName(ElementText(html, "title"));

  // The page's labelled lines (发文字号：..., 发布日期：...), read as the server reads a text.
  absl::StatusOr<std::string> text = ingest::ToPlainText(html, ingest::SourceFormat::kHtml);
  if (!text.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("content: ", text.status().message()));
  }
  ingest::DocumentMetadata found = ingest::ExtractMetadata(title, *text);

  v1::ImportItem item;
  item.set_source_id(source_id);
  item.set_source_url(url);
  v1::Entry* e = item.mutable_entry();
  e->set_kind(v1::ENTRY_KIND_POLICY_DOCUMENT);
  e->set_title(title);
  for (std::string& k : keywords) {
    if (k.size() <= 150) e->add_keywords(std::move(k));  // 50 code points of 3 bytes.
  }
  v1::PolicyDocument* p = e->mutable_policy_document();
  p->set_doc_number(doc_number.empty() ? found.doc_number : doc_number);
  if (!agency.empty()) {
    p->add_issuing_agencies(agency);
  } else {
    for (const std::string& a : found.agencies) p->add_issuing_agencies(a);
  }
  p->set_publish_date(publish_date.empty() ? found.publish_date : publish_date);
  p->set_effective_date(found.effective_date);
  p->set_expiry_date(found.expiry_date);
  item.mutable_content()->set_format(v1::CONTENT_FORMAT_HTML);
  item.mutable_content()->set_text(std::string(html));
  return item;
}

namespace {

std::vector<std::string> Extensions() { return {".html", ".htm"}; }

}  // namespace

absl::StatusOr<std::unique_ptr<SourceReader>> OpenHtml(const std::string& file_or_directory) {
  return OpenPages(file_or_directory, Extensions(), v1::CONTENT_FORMAT_HTML, HtmlPageToItem);
}

SourceFormat HtmlFormat() {
  SourceFormat f;
  f.name = "html";
  f.aliases = {"htm"};
  f.extensions = Extensions();
  f.pages = true;
  f.summary = "HTML pages: one file, or every .html/.htm file under a directory";
  f.open = OpenHtml;
  return f;
}

}  // namespace hotline::kb::importers
