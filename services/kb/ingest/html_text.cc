// HTML to text (HtmlToText, DecodeHtmlEntities): a tolerant tag reader that keeps the text of
// an article's blocks, headings and lists and drops scripts, styles and the site's furniture.
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/kb/ingest/cleaner.h"
#include "services/kb/ingest/internal/unicode.h"

namespace hotline::kb::ingest {
namespace {

using ingest_internal::AppendUtf8;
using ingest_internal::DecodeUtf8Lenient;
using ingest_internal::IsCjkText;
using ingest_internal::IsSpace;

// ---------------------------------------------------------------------------------------------
// HTML character references

struct NamedEntity {
  const char* name;
  char32_t value;
};

// The named references seen in Chinese government pages and common editors' output; HTML has
// two thousand, but pages in practice use these and numeric references.
constexpr NamedEntity kNamedEntities[] = {
    {"amp", U'&'},    {"lt", U'<'},     {"gt", U'>'},     {"quot", U'"'},     {"apos", U'\''},
    {"nbsp", 0x00A0}, {"ensp", 0x2002}, {"emsp", 0x2003}, {"thinsp", 0x2009}, {"zwsp", 0x200B},
    {"shy", 0x00AD},  {"middot", U'·'}, {"bull", U'•'},   {"hellip", U'…'},   {"mdash", U'—'},
    {"ndash", U'–'},  {"ldquo", U'“'},  {"rdquo", U'”'},  {"lsquo", U'‘'},    {"rsquo", U'’'},
    {"laquo", U'«'},  {"raquo", U'»'},  {"copy", U'©'},   {"reg", U'®'},      {"trade", U'™'},
    {"times", U'×'},  {"divide", U'÷'}, {"deg", U'°'},    {"plusmn", U'±'},   {"yen", U'¥'},
    {"sect", U'§'},   {"para", U'¶'},   {"permil", U'‰'}, {"rarr", U'→'},     {"larr", U'←'},
    {"le", U'≤'},     {"ge", U'≥'},     {"ne", U'≠'},
};

bool IsValidScalar(uint32_t value) {
  return value != 0 && value <= 0x10FFFF && !(value >= 0xD800 && value <= 0xDFFF);
}

// Decodes the reference starting at text[pos] == '&'. On success appends it and returns the
// length consumed; returns 0 when there is no reference there.
size_t DecodeEntityAt(absl::string_view text, size_t pos, std::string* out) {
  size_t i = pos + 1;
  if (i < text.size() && text[i] == '#') {
    ++i;
    const bool hex = i < text.size() && (text[i] == 'x' || text[i] == 'X');
    if (hex) ++i;
    const size_t digits_begin = i;
    uint32_t value = 0;
    while (i < text.size() && (hex ? absl::ascii_isxdigit(static_cast<unsigned char>(text[i]))
                                   : absl::ascii_isdigit(static_cast<unsigned char>(text[i])))) {
      const char ch = absl::ascii_tolower(static_cast<unsigned char>(text[i]));
      const uint32_t digit =
          ch <= '9' ? static_cast<uint32_t>(ch - '0') : static_cast<uint32_t>(ch - 'a' + 10);
      // Saturate instead of overflowing: anything this large is invalid anyway.
      value = value > 0x10FFFF ? value : value * (hex ? 16 : 10) + digit;
      ++i;
    }
    if (i == digits_begin) return 0;
    // Browsers accept a numeric reference without its ';', and so do we.
    if (i < text.size() && text[i] == ';') ++i;
    AppendUtf8(IsValidScalar(value) ? static_cast<char32_t>(value) : U'\uFFFD', out);
    return i - pos;
  }
  const size_t name_begin = i;
  while (i < text.size() && absl::ascii_isalnum(static_cast<unsigned char>(text[i])) &&
         i - name_begin < 10) {
    ++i;
  }
  if (i == name_begin || i >= text.size() || text[i] != ';') return 0;
  const absl::string_view name = text.substr(name_begin, i - name_begin);
  for (const NamedEntity& entity : kNamedEntities) {
    if (name == entity.name) {
      AppendUtf8(entity.value, out);
      return i + 1 - pos;
    }
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// HTML

struct Tag {
  std::string name;  // lower case
  bool closing = false;
  bool self_closing = false;
  absl::string_view attributes;
  size_t end = 0;  // one past '>'
};

// Parses the tag at html[pos] == '<'. False when the '<' does not start a tag ("a < b").
bool ParseTag(absl::string_view html, size_t pos, Tag* tag) {
  size_t i = pos + 1;
  tag->closing = i < html.size() && html[i] == '/';
  if (tag->closing) ++i;
  if (i >= html.size() || !absl::ascii_isalpha(static_cast<unsigned char>(html[i]))) return false;
  const size_t name_begin = i;
  while (i < html.size() && (absl::ascii_isalnum(static_cast<unsigned char>(html[i])) ||
                             html[i] == '-' || html[i] == ':')) {
    ++i;
  }
  tag->name = absl::AsciiStrToLower(html.substr(name_begin, i - name_begin));
  const size_t attributes_begin = i;
  char quote = 0;
  for (; i < html.size(); ++i) {
    if (quote != 0) {
      if (html[i] == quote) quote = 0;
    } else if (html[i] == '"' || html[i] == '\'') {
      quote = html[i];
    } else if (html[i] == '>') {
      break;
    }
  }
  tag->attributes = html.substr(attributes_begin, i - attributes_begin);
  tag->self_closing = absl::EndsWith(tag->attributes, "/");
  tag->end = i < html.size() ? i + 1 : html.size();
  return true;
}

// The value of attribute `name` in a tag's attribute text, lower-cased; empty when absent.
std::string AttributeValue(absl::string_view attributes, absl::string_view name) {
  size_t i = 0;
  while (i < attributes.size()) {
    while (
        i < attributes.size() &&
        (absl::ascii_isspace(static_cast<unsigned char>(attributes[i])) || attributes[i] == '/')) {
      ++i;
    }
    const size_t name_begin = i;
    while (i < attributes.size() && attributes[i] != '=' &&
           !absl::ascii_isspace(static_cast<unsigned char>(attributes[i]))) {
      ++i;
    }
    const absl::string_view attribute = attributes.substr(name_begin, i - name_begin);
    while (i < attributes.size() &&
           absl::ascii_isspace(static_cast<unsigned char>(attributes[i]))) {
      ++i;
    }
    absl::string_view value;
    if (i < attributes.size() && attributes[i] == '=') {
      ++i;
      while (i < attributes.size() &&
             absl::ascii_isspace(static_cast<unsigned char>(attributes[i]))) {
        ++i;
      }
      if (i < attributes.size() && (attributes[i] == '"' || attributes[i] == '\'')) {
        const char quote = attributes[i++];
        const size_t end = attributes.find(quote, i);
        value = attributes.substr(
            i, end == absl::string_view::npos ? absl::string_view::npos : end - i);
        i = end == absl::string_view::npos ? attributes.size() : end + 1;
      } else {
        const size_t value_begin = i;
        while (i < attributes.size() &&
               !absl::ascii_isspace(static_cast<unsigned char>(attributes[i]))) {
          ++i;
        }
        value = attributes.substr(value_begin, i - value_begin);
      }
    }
    if (attribute.empty() && i == name_begin) ++i;  // stray character: move on
    if (absl::EqualsIgnoreCase(attribute, name)) return absl::AsciiStrToLower(value);
  }
  return "";
}

bool IsVoidElement(absl::string_view name) {
  static const auto* const kVoid = new absl::flat_hash_set<std::string>{
      "area",  "base", "br",   "col",   "embed",  "hr",    "img",
      "input", "link", "meta", "param", "source", "track", "wbr"};
  return kVoid->contains(name);
}

// Elements whose content is never document text.
bool IsSkippedElement(absl::string_view name) {
  static const auto* const kSkipped = new absl::flat_hash_set<std::string>{
      "head",   "script", "style", "noscript", "template", "iframe", "svg",     "canvas",
      "object", "nav",    "aside", "form",     "select",   "button", "textarea"};
  return kSkipped->contains(name);
}

// Elements whose content the browser does not parse as HTML, so their end is the first
// "</name", whatever comes before it.
bool IsRawTextElement(absl::string_view name) {
  return name == "script" || name == "style" || name == "textarea" || name == "title";
}

bool IsBlockElement(absl::string_view name) {
  static const auto* const kBlock = new absl::flat_hash_set<std::string>{
      "p",      "div",     "br",         "li",    "ul",      "ol",      "dl",
      "dt",     "dd",      "tr",         "table", "section", "article", "main",
      "header", "footer",  "blockquote", "pre",   "hr",      "figure",  "figcaption",
      "center", "address", "caption",    "tbody", "thead",   "tfoot",   "body",
      "html",   "h1",      "h2",         "h3",    "h4",      "h5",      "h6"};
  return kBlock->contains(name);
}

int HeadingLevel(absl::string_view name) {
  if (name.size() == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6') {
    return name[1] - '0';
  }
  return 0;
}

// Class and id names that Chinese government site templates give to navigation bars, share
// buttons, breadcrumbs and footers. `in_article`: inside <article>/<main>, "header" and "footer"
// name the article's own parts and are kept.
bool NamesFurniture(absl::string_view attribute_value, bool in_article) {
  // The word itself or the word and a separator ("nav", "nav-main", "share_box"); not a longer
  // word ("navigation-guide") and never a word merely containing it.
  static constexpr absl::string_view kPrefixes[] = {"nav",     "navbar",  "menu",      "breadcrumb",
                                                    "crumb",   "crumbs",  "share",     "bdshare",
                                                    "sidebar", "toolbar", "copyright", "topbar"};
  // Only these exact names: "header-title" or "print-content" may well wrap the document itself.
  static constexpr absl::string_view kExact[] = {"header", "footer", "foot"};
  for (absl::string_view token : absl::StrSplit(attribute_value, ' ', absl::SkipEmpty())) {
    for (absl::string_view word : kPrefixes) {
      if (absl::StartsWith(token, word) &&
          (token.size() == word.size() || token[word.size()] == '-' || token[word.size()] == '_')) {
        return true;
      }
    }
    if (!in_article) {
      for (absl::string_view word : kExact) {
        if (token == word) return true;
      }
    }
  }
  return false;
}

// The position just past the end tag matching the element `name` whose start tag ends at `pos`.
size_t SkipElement(absl::string_view html, size_t pos, const std::string& name) {
  if (IsRawTextElement(name)) {
    for (size_t lt = html.find("</", pos); lt != absl::string_view::npos;
         lt = html.find("</", lt + 2)) {
      if (absl::EqualsIgnoreCase(html.substr(lt + 2, name.size()), name)) {
        const size_t gt = html.find('>', lt);
        return gt == absl::string_view::npos ? html.size() : gt + 1;
      }
    }
    return html.size();
  }
  int depth = 1;
  size_t i = pos;
  while (i < html.size()) {
    const size_t lt = html.find('<', i);
    if (lt == absl::string_view::npos) return html.size();
    if (html.compare(lt, 4, "<!--") == 0) {
      const size_t end = html.find("-->", lt + 4);
      i = end == absl::string_view::npos ? html.size() : end + 3;
      continue;
    }
    Tag tag;
    if (!ParseTag(html, lt, &tag)) {
      i = lt + 1;
      continue;
    }
    i = tag.end;
    if (tag.name != name || tag.self_closing) continue;
    depth += tag.closing ? -1 : 1;
    if (depth == 0) return i;
  }
  return html.size();
}

// Accumulates text lines with HTML's whitespace rules.
class TextBuilder {
 public:
  void Text(absl::string_view raw, bool preformatted) {
    std::string decoded;
    decoded.reserve(raw.size());
    for (size_t i = 0; i < raw.size();) {
      if (raw[i] == '&') {
        const size_t consumed = DecodeEntityAt(raw, i, &decoded);
        if (consumed > 0) {
          i += consumed;
          continue;
        }
      }
      decoded.push_back(raw[i++]);
    }
    for (char32_t c : DecodeUtf8Lenient(decoded)) {
      if (preformatted) {
        if (c == '\n') {
          LineBreak();
        } else {
          Append(c);
        }
      } else if (IsSpace(c)) {
        pending_space_ = true;
        pending_newline_ = pending_newline_ || c == '\n';
      } else {
        Append(c);
      }
    }
  }

  void LineBreak() {
    if (heading_depth_ > 0) {
      // A heading stays one line whatever block structure it contains.
      pending_space_ = true;
      return;
    }
    pending_space_ = pending_newline_ = false;
    line_has_text_ = false;
    if (!out_.empty() && out_.back() != '\n') out_.push_back('\n');
  }

  void StartHeading(int level) {
    LineBreak();
    heading_marker_ = out_.size();
    out_.append(static_cast<size_t>(level), '#');
    out_.push_back(' ');
    ++heading_depth_;
  }

  void EndHeading() {
    if (heading_depth_ > 0) --heading_depth_;
    // An empty heading (a spacer, an image-only title) leaves no bare "#" line.
    if (heading_depth_ == 0 && !line_has_text_ && heading_marker_ <= out_.size()) {
      out_.resize(heading_marker_);
    }
    LineBreak();
  }

  void CellBreak() { pending_space_ = true; }

  std::string Finish() && {
    LineBreak();
    return std::move(out_);
  }

 private:
  void Append(char32_t c) {
    if (pending_space_ && line_has_text_) {
      const bool wrap_between_chinese = pending_newline_ && IsCjkText(last_) && IsCjkText(c);
      if (!wrap_between_chinese) out_.push_back(' ');
    }
    pending_space_ = pending_newline_ = false;
    AppendUtf8(c, &out_);
    last_ = c;
    line_has_text_ = true;
  }

  std::string out_;
  bool pending_space_ = false;
  bool pending_newline_ = false;
  bool line_has_text_ = false;
  char32_t last_ = 0;
  int heading_depth_ = 0;
  size_t heading_marker_ = 0;  // where the current heading's "#" marker starts in out_
};

}  // namespace

// ---------------------------------------------------------------------------------------------

std::string DecodeHtmlEntities(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '&') {
      const size_t consumed = DecodeEntityAt(text, i, &out);
      if (consumed > 0) {
        i += consumed;
        continue;
      }
    }
    out.push_back(text[i++]);
  }
  return out;
}

std::string HtmlToText(absl::string_view html) {
  TextBuilder builder;
  int article_depth = 0;
  int pre_depth = 0;
  size_t i = 0;
  while (i < html.size()) {
    const size_t lt = html.find('<', i);
    const size_t text_end = lt == absl::string_view::npos ? html.size() : lt;
    if (text_end > i) builder.Text(html.substr(i, text_end - i), pre_depth > 0);
    if (lt == absl::string_view::npos) break;
    if (html.compare(lt, 4, "<!--") == 0) {
      const size_t end = html.find("-->", lt + 4);
      i = end == absl::string_view::npos ? html.size() : end + 3;
      continue;
    }
    if (lt + 1 < html.size() && (html[lt + 1] == '!' || html[lt + 1] == '?')) {
      const size_t end = html.find('>', lt);  // <!DOCTYPE ...>, <?xml ...?>
      i = end == absl::string_view::npos ? html.size() : end + 1;
      continue;
    }
    Tag tag;
    if (!ParseTag(html, lt, &tag)) {
      builder.Text("<", pre_depth > 0);
      i = lt + 1;
      continue;
    }
    i = tag.end;
    const bool in_article = article_depth > 0;
    if (!tag.closing) {
      const bool furniture = IsSkippedElement(tag.name) ||
                             ((tag.name == "header" || tag.name == "footer") && !in_article) ||
                             NamesFurniture(AttributeValue(tag.attributes, "class"), in_article) ||
                             NamesFurniture(AttributeValue(tag.attributes, "id"), in_article);
      if (furniture && !tag.self_closing && !IsVoidElement(tag.name)) {
        i = SkipElement(html, i, tag.name);
        builder.LineBreak();
        continue;
      }
      if (tag.name == "article" || tag.name == "main") ++article_depth;
      if (tag.name == "pre") ++pre_depth;
    } else {
      if ((tag.name == "article" || tag.name == "main") && article_depth > 0) --article_depth;
      if (tag.name == "pre" && pre_depth > 0) --pre_depth;
    }
    if (const int level = HeadingLevel(tag.name); level > 0) {
      if (tag.closing) {
        builder.EndHeading();
      } else {
        builder.StartHeading(level);
      }
    } else if (IsBlockElement(tag.name)) {
      builder.LineBreak();
    } else if (tag.name == "td" || tag.name == "th") {
      builder.CellBreak();
    }
  }
  return std::move(builder).Finish();
}

}  // namespace hotline::kb::ingest
