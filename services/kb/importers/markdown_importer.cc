#include "services/kb/importers/markdown_importer.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/utf8.h"
#include "services/kb/importers/pages.h"
#include "services/kb/ingest/cleaner.h"
#include "services/kb/ingest/metadata.h"

namespace hotline::kb::importers {
namespace {

// Front-matter keys, in English or Chinese, to the field they set.
const std::map<std::string, std::string>& FrontMatterKeys() {
  static const auto* const keys = new std::map<std::string, std::string>{
      {"title", "title"},
      {"标题", "title"},
      {"doc_number", "doc_number"},
      {"文号", "doc_number"},
      {"发文字号", "doc_number"},
      {"agency", "agency"},
      {"发文机关", "agency"},
      {"publish_date", "publish_date"},
      {"发布日期", "publish_date"},
      {"effective_date", "effective_date"},
      {"施行日期", "effective_date"},
      {"region", "region"},
      {"地区", "region"},
      {"category", "category"},
      {"分类", "category"},
      {"url", "url"},
      {"来源", "url"},
      {"keywords", "keywords"},
      {"关键词", "keywords"},
  };
  return *keys;
}

struct Page {
  std::map<std::string, std::string> fields;  // By the field's English name.
  absl::string_view body;                     // The text after the front matter.
};

absl::StatusOr<Page> SplitFrontMatter(absl::string_view text) {
  Page page;
  page.body = text;
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");  // A byte-order mark some editors write.
  if (!absl::StartsWith(text, "---\n") && !absl::StartsWith(text, "---\r\n")) return page;
  text.remove_prefix(text.find('\n') + 1);
  int line_number = 1;
  while (true) {
    ++line_number;
    if (text.empty()) {
      return absl::InvalidArgumentError("front matter: no closing '---' line");
    }
    size_t end = text.find('\n');
    absl::string_view line = absl::StripAsciiWhitespace(text.substr(0, end));
    text.remove_prefix(end == absl::string_view::npos ? text.size() : end + 1);
    if (line == "---") break;
    if (line.empty() || line[0] == '#') continue;
    // "key: value", or with the full-width colon Chinese text uses.
    size_t colon = line.find(':');
    size_t width = 1;
    size_t wide = line.find("：");
    if (wide != absl::string_view::npos && (colon == absl::string_view::npos || wide < colon)) {
      colon = wide;
      width = 3;
    }
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("front matter line ", line_number, ": not 'key: value'"));
    }
    std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon)));
    std::string value(absl::StripAsciiWhitespace(line.substr(colon + width)));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    auto known = FrontMatterKeys().find(key);
    if (known == FrontMatterKeys().end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "front matter line ", line_number, ": unknown key '", key,
          "' (title, doc_number, agency, publish_date, effective_date, region, category, url, "
          "keywords, or their Chinese names)"));
    }
    page.fields[known->second] = std::move(value);
  }
  page.body = text;
  return page;
}

// The text of the first "# " heading, or "".
std::string FirstHeading(absl::string_view body) {
  for (absl::string_view line : absl::StrSplit(body, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (absl::ConsumePrefix(&line, "# ")) return std::string(absl::StripAsciiWhitespace(line));
  }
  return "";
}

std::string Field(const Page& page, const std::string& name) {
  auto it = page.fields.find(name);
  return it == page.fields.end() ? "" : it->second;
}

// A date as YYYY-MM-DD, or an error naming the key.
absl::StatusOr<std::string> DateField(const Page& page, const std::string& name) {
  std::string value = Field(page, name);
  if (value.empty()) return value;
  std::vector<ingest::DateMatch> dates = ingest::FindDates(value);
  if (dates.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("front matter: ", name, ": not a date: '", value, "'"));
  }
  return dates.front().date;
}

}  // namespace

absl::StatusOr<v1::ImportItem> MarkdownPageToItem(absl::string_view text,
                                                  const std::string& source_id) {
  // The front matter's values go into the item as they are, and proto strings must be UTF-8.
  if (!IsValidUtf8(text)) {
    return absl::InvalidArgumentError("content: not valid UTF-8 (save the page as UTF-8)");
  }
  absl::StatusOr<Page> page = SplitFrontMatter(text);
  if (!page.ok()) return page.status();
  std::string title = Field(*page, "title");
  if (title.empty()) title = FirstHeading(page->body);
  if (title.empty()) {
    return absl::InvalidArgumentError(
        "title: none (give 'title:' in the front matter or begin with a '# ' heading)");
  }
  absl::StatusOr<std::string> plain =
      ingest::ToPlainText(page->body, ingest::SourceFormat::kMarkdown);
  if (!plain.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("content: ", plain.status().message()));
  }
  ingest::DocumentMetadata found = ingest::ExtractMetadata(title, *plain);

  std::string doc_number = found.doc_number;
  if (std::string given = Field(*page, "doc_number"); !given.empty()) {
    std::optional<ingest::DocNumber> number = ingest::ParseDocNumber(given);
    if (!number.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("front matter: doc_number: not a 文号: '", given, "'"));
    }
    doc_number = number->Canonical();
  }
  absl::StatusOr<std::string> publish_date = DateField(*page, "publish_date");
  if (!publish_date.ok()) return publish_date.status();
  absl::StatusOr<std::string> effective_date = DateField(*page, "effective_date");
  if (!effective_date.ok()) return effective_date.status();

  v1::ImportItem item;
  item.set_source_id(source_id);
  item.set_source_url(Field(*page, "url"));
  v1::Entry* e = item.mutable_entry();
  e->set_kind(v1::ENTRY_KIND_POLICY_DOCUMENT);
  e->set_title(title);
  e->set_region(Field(*page, "region"));
  e->set_category_path(Field(*page, "category"));
  std::string keywords = absl::StrReplaceAll(Field(*page, "keywords"), {{"，", ","}, {"、", ","}});
  for (absl::string_view k : absl::StrSplit(keywords, ',', absl::SkipEmpty())) {
    k = absl::StripAsciiWhitespace(k);
    if (!k.empty() && k.size() <= 150) e->add_keywords(std::string(k));  // 50 code points.
  }
  v1::PolicyDocument* p = e->mutable_policy_document();
  p->set_doc_number(doc_number);
  if (std::string agency = Field(*page, "agency"); !agency.empty()) {
    p->add_issuing_agencies(ingest::NormalizeAgencyName(agency));
  } else {
    for (const std::string& a : found.agencies) p->add_issuing_agencies(a);
  }
  p->set_publish_date(publish_date->empty() ? found.publish_date : *publish_date);
  p->set_effective_date(effective_date->empty() ? found.effective_date : *effective_date);
  p->set_expiry_date(found.expiry_date);
  item.mutable_content()->set_format(v1::CONTENT_FORMAT_MARKDOWN);
  item.mutable_content()->set_text(std::string(page->body));
  return item;
}

namespace {

std::vector<std::string> Extensions() { return {".md", ".markdown"}; }

}  // namespace

absl::StatusOr<std::unique_ptr<SourceReader>> OpenMarkdown(const std::string& file_or_directory) {
  return OpenPages(file_or_directory, Extensions(), v1::CONTENT_FORMAT_MARKDOWN,
                   MarkdownPageToItem);
}

SourceFormat MarkdownFormat() {
  SourceFormat f;
  f.name = "md";
  f.aliases = {"markdown"};
  f.extensions = Extensions();
  f.pages = true;
  f.summary =
      "Markdown pages, with optional front matter: one file, or every .md/.markdown file under a "
      "directory";
  f.open = OpenMarkdown;
  return f;
}

}  // namespace hotline::kb::importers
