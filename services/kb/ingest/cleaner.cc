#include "services/kb/ingest/cleaner.h"

#include <unicode/utf8.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "services/kb/ingest/internal/unicode.h"

namespace hotline::kb::ingest {
namespace {

using ingest_internal::AppendUtf8;
using ingest_internal::CodePointCount;
using ingest_internal::DecodeUtf8;
using ingest_internal::DecodeUtf8Lenient;
using ingest_internal::EncodeUtf8;
using ingest_internal::FoldWidth;
using ingest_internal::IsAlnum;
using ingest_internal::IsHan;
using ingest_internal::IsSpace;

// ---------------------------------------------------------------------------------------------
// Character classes

// Chinese punctuation that carries its own spacing, so spaces next to it are noise.
bool IsChinesePunct(char32_t c) {
  // U+3001-3003 、。〃 and the brackets U+3008-3011 and U+3014-301F; not 々, 〆 or 〇 between them.
  return (c >= 0x3001 && c <= 0x3003) || (c >= 0x3008 && c <= 0x3011) ||
         (c >= 0x3014 && c <= 0x301F) || c == U'！' || c == U'（' || c == U'）' || c == U'，' ||
         c == U'：' || c == U'；' || c == U'？' || c == U'…' || c == U'—';
}

// Characters between which a hard line wrap in an HTML source or a Markdown paragraph means
// nothing, because Chinese is written without spaces.
bool IsCjkText(char32_t c) { return IsHan(c) || IsChinesePunct(c); }

// The clause punctuation whose repetition ("。。", "，，") is a typing slip rather than style.
bool IsCollapsiblePunct(char32_t c) {
  return c == U'，' || c == U'。' || c == U'、' || c == U'；' || c == U'：' || c == U'？' ||
         c == U'！';
}

// Full-width punctuation that Chinese text is written in and that therefore stays full-width;
// the other full-width forms of ASCII symbols (％ ＋ ／ ［ ...) are folded to ASCII.
bool IsKeptFullWidthPunct(char32_t c) {
  return c == U'！' || c == U'（' || c == U'）' || c == U'，' || c == U'：' || c == U'；' ||
         c == U'？';
}

char32_t LastCodePoint(const std::string& utf8) {
  if (utf8.empty()) return 0;
  const auto* bytes = reinterpret_cast<const uint8_t*>(utf8.data());
  int32_t i = static_cast<int32_t>(utf8.size());
  UChar32 c;
  U8_PREV(bytes, 0, i, c);
  return c < 0 ? 0 : static_cast<char32_t>(c);
}

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

// ---------------------------------------------------------------------------------------------
// Markdown

bool IsAsciiPunct(char c) { return absl::ascii_ispunct(static_cast<unsigned char>(c)); }

// Where the bracketed text starting at s[open] ends (the matching ']' or ')'), or npos.
size_t MatchingBracket(absl::string_view s, size_t open, char open_char, char close_char) {
  int depth = 0;
  for (size_t i = open; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == open_char) {
      ++depth;
    } else if (s[i] == close_char && --depth == 0) {
      return i;
    }
  }
  return absl::string_view::npos;
}

// Inline Markdown of one paragraph to text.
std::string InlineMarkdown(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '\\' && i + 1 < s.size() && IsAsciiPunct(s[i + 1])) {
      out.push_back(s[i + 1]);
      i += 2;
    } else if (c == '`') {
      size_t run = 0;
      while (i + run < s.size() && s[i + run] == '`') ++run;
      const size_t close = s.find(std::string(run, '`'), i + run);
      if (close == absl::string_view::npos) {
        absl::StrAppend(&out, s.substr(i, run));
        i += run;
      } else {
        absl::StrAppend(&out, absl::StripAsciiWhitespace(s.substr(i + run, close - i - run)));
        i = close + run;
      }
    } else if ((c == '!' && i + 1 < s.size() && s[i + 1] == '[') || c == '[') {
      const bool image = c == '!';
      const size_t open = image ? i + 1 : i;
      const size_t close = MatchingBracket(s, open, '[', ']');
      if (close == absl::string_view::npos) {
        out.push_back(c);
        ++i;
        continue;
      }
      size_t next = close + 1;
      if (next < s.size() && s[next] == '(') {
        const size_t paren = MatchingBracket(s, next, '(', ')');
        if (paren != absl::string_view::npos) next = paren + 1;
      } else if (next < s.size() && s[next] == '[') {
        const size_t ref = s.find(']', next);
        if (ref != absl::string_view::npos) next = ref + 1;
      }
      // An image's alt text is usually a file name or "图片", not content.
      if (!image) out.append(InlineMarkdown(s.substr(open + 1, close - open - 1)));
      i = next;
    } else if (c == '<') {
      const size_t gt = s.find('>', i);
      const absl::string_view inside =
          gt == absl::string_view::npos ? absl::string_view() : s.substr(i + 1, gt - i - 1);
      if (absl::StartsWith(inside, "http://") || absl::StartsWith(inside, "https://")) {
        absl::StrAppend(&out, inside);  // autolink
        i = gt + 1;
      } else if (!inside.empty() && (absl::ascii_isalpha(static_cast<unsigned char>(inside[0])) ||
                                     inside[0] == '/' || inside[0] == '!')) {
        if (absl::StartsWithIgnoreCase(inside, "br")) out.push_back(' ');
        i = gt + 1;  // inline HTML tag
      } else {
        out.push_back(c);
        ++i;
      }
    } else if (c == '*' || c == '_' || c == '~') {
      size_t run = 0;
      while (i + run < s.size() && s[i + run] == c) ++run;
      const char before = i > 0 ? s[i - 1] : ' ';
      const char after = i + run < s.size() ? s[i + run] : ' ';
      const auto is_space = [](char ch) {
        return absl::ascii_isspace(static_cast<unsigned char>(ch));
      };
      const auto is_alnum = [](char ch) {
        return absl::ascii_isalnum(static_cast<unsigned char>(ch));
      };
      bool literal;
      if (c == '~') {
        literal = run < 2;  // one tilde is "about" (约~5天), two strike through
      } else if (c == '_') {
        literal = is_alnum(before) && is_alnum(after);  // snake_case
      } else {
        // "a * b" and "5*3" are arithmetic, not emphasis.
        literal = (is_space(before) && is_space(after)) ||
                  (absl::ascii_isdigit(static_cast<unsigned char>(before)) &&
                   absl::ascii_isdigit(static_cast<unsigned char>(after)));
      }
      if (literal) absl::StrAppend(&out, s.substr(i, run));
      i += run;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return DecodeHtmlEntities(out);
}

// Appends a continuation line of a paragraph: Chinese lines join without a space.
void JoinParagraphLine(absl::string_view line, std::string* paragraph) {
  if (paragraph->empty()) {
    paragraph->assign(line.data(), line.size());
    return;
  }
  const std::u32string head = DecodeUtf8Lenient(line.substr(0, std::min<size_t>(line.size(), 4)));
  const char32_t first = head.empty() ? 0 : head[0];
  if (!(IsCjkText(LastCodePoint(*paragraph)) && IsCjkText(first))) paragraph->push_back(' ');
  paragraph->append(line.data(), line.size());
}

bool IsThematicBreak(absl::string_view t) {
  if (t.size() < 3) return false;
  const char mark = t[0];
  if (mark != '-' && mark != '*' && mark != '_') return false;
  int count = 0;
  for (char c : t) {
    if (c == mark) {
      ++count;
    } else if (c != ' ') {
      return false;
    }
  }
  return count >= 3;
}

bool IsAll(absl::string_view t, char mark) {
  return !t.empty() && std::all_of(t.begin(), t.end(), [mark](char c) { return c == mark; });
}

// "1." or "12)" list numbers, which are content in policy texts and so are kept.
bool StartsOrderedItem(absl::string_view t) {
  size_t i = 0;
  while (i < t.size() && absl::ascii_isdigit(static_cast<unsigned char>(t[i]))) ++i;
  return i > 0 && i + 1 < t.size() && (t[i] == '.' || t[i] == ')') && t[i + 1] == ' ';
}

// ---------------------------------------------------------------------------------------------
// Normalisation

// Closes up a line whose Chinese characters are letter-spaced ("通 知", "打 印 本 页"): at least
// two thirds of the gaps between consecutive Chinese characters are single spaces.
void CloseLetterSpacing(std::u32string* line) {
  int pairs = 0;
  int spaced = 0;
  for (size_t i = 0; i + 1 < line->size(); ++i) {
    if (!IsHan((*line)[i])) continue;
    if (IsHan((*line)[i + 1])) {
      ++pairs;
    } else if ((*line)[i + 1] == ' ' && i + 2 < line->size() && IsHan((*line)[i + 2])) {
      ++pairs;
      ++spaced;
    }
  }
  if (pairs == 0 || spaced * 3 < pairs * 2) return;
  std::u32string out;
  for (size_t i = 0; i < line->size(); ++i) {
    const char32_t c = (*line)[i];
    if (c == ' ' && i > 0 && i + 1 < line->size() && IsHan((*line)[i - 1]) &&
        IsHan((*line)[i + 1])) {
      continue;
    }
    out.push_back(c);
  }
  *line = std::move(out);
}

// The nearest character to `i` in direction `step` that is not a space, or 0.
char32_t NeighbourNonSpace(const std::u32string& line, size_t i, int step) {
  for (ptrdiff_t j = static_cast<ptrdiff_t>(i) + step;
       j >= 0 && j < static_cast<ptrdiff_t>(line.size()); j += step) {
    if (line[static_cast<size_t>(j)] != ' ') return line[static_cast<size_t>(j)];
  }
  return 0;
}

void NormalizePunctuation(std::u32string* line) {
  std::u32string& s = *line;
  for (size_t i = 0; i < s.size(); ++i) {
    char32_t full = 0;
    switch (s[i]) {
      case ',':
        full = U'，';
        break;
      case ';':
        full = U'；';
        break;
      case ':':
        full = U'：';
        break;
      case '?':
        full = U'？';
        break;
      case '!':
        full = U'！';
        break;
      default:
        continue;
    }
    if (IsHan(NeighbourNonSpace(s, i, -1)) || IsHan(NeighbourNonSpace(s, i, +1))) s[i] = full;
  }
  // Parentheses convert as a pair, so "湘政发(2023)5号" becomes "湘政发（2023）5号", not a mix.
  std::vector<size_t> open;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '(') {
      open.push_back(i);
    } else if (s[i] == ')' && !open.empty()) {
      const size_t begin = open.back();
      open.pop_back();
      bool chinese = IsHan(NeighbourNonSpace(s, begin, -1));
      for (size_t j = begin + 1; j < i && !chinese; ++j) chinese = IsHan(s[j]);
      if (chinese) {
        s[begin] = U'（';
        s[i] = U'）';
      }
    }
  }
  // Spaces next to Chinese punctuation, and repeated clause punctuation, go.
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char32_t c = s[i];
    if (c == ' ') {
      const char32_t before = out.empty() ? 0 : out.back();
      const char32_t after = i + 1 < s.size() ? s[i + 1] : 0;
      if (IsChinesePunct(before) || IsChinesePunct(after)) continue;
    }
    if (IsCollapsiblePunct(c) && !out.empty() && out.back() == c) continue;
    out.push_back(c);
  }
  s = std::move(out);
}

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

std::string MarkdownToText(absl::string_view markdown) {
  std::vector<std::string> lines;
  std::string paragraph;
  auto flush = [&] {
    if (!paragraph.empty()) {
      std::string line = InlineMarkdown(paragraph);
      if (!absl::StripAsciiWhitespace(line).empty()) lines.push_back(std::move(line));
    }
    paragraph.clear();
  };
  char fence = 0;
  for (absl::string_view line : absl::StrSplit(markdown, '\n')) {
    line = absl::StripSuffix(line, "\r");
    absl::string_view t = absl::StripAsciiWhitespace(line);
    if (fence != 0) {
      if (absl::StartsWith(t, std::string(3, fence))) {
        fence = 0;
      } else {
        lines.emplace_back(line);
      }
      continue;
    }
    if (absl::StartsWith(t, "```") || absl::StartsWith(t, "~~~")) {
      flush();
      fence = t[0];
      continue;
    }
    if (t.empty()) {
      flush();
      continue;
    }
    // Setext headings underline the paragraph before them.
    if (!paragraph.empty() && (IsAll(t, '=') || IsAll(t, '-'))) {
      lines.push_back((t[0] == '=' ? "# " : "## ") + InlineMarkdown(paragraph));
      paragraph.clear();
      continue;
    }
    if (IsThematicBreak(t)) {
      flush();
      continue;
    }
    if (t[0] == '#') {
      size_t level = 0;
      while (level < t.size() && t[level] == '#') ++level;
      if (level <= 6 && (level == t.size() || t[level] == ' ')) {
        flush();
        absl::string_view text = absl::StripAsciiWhitespace(t.substr(level));
        while (absl::ConsumeSuffix(&text, "#")) {
        }
        lines.push_back(std::string(level, '#') + " " +
                        InlineMarkdown(absl::StripAsciiWhitespace(text)));
        continue;
      }
    }
    if (absl::StartsWith(t, ">")) {
      // A quote starts a block of its own; its lines are text like any other.
      flush();
      while (absl::ConsumePrefix(&t, ">")) t = absl::StripLeadingAsciiWhitespace(t);
      if (t.empty()) continue;
    }
    if (t[0] == '|') {
      flush();
      // A delimiter row ("|---|:--:|") is layout only.
      if (t.find_first_not_of("|:- ") == absl::string_view::npos) continue;
      std::string row;
      for (absl::string_view cell : absl::StrSplit(t, '|')) {
        cell = absl::StripAsciiWhitespace(cell);
        if (cell.empty()) continue;
        if (!row.empty()) row.push_back(' ');
        row.append(InlineMarkdown(cell));
      }
      lines.push_back(std::move(row));
      continue;
    }
    if (t.size() >= 2 && (t[0] == '-' || t[0] == '*' || t[0] == '+') && t[1] == ' ') {
      flush();
      t = absl::StripLeadingAsciiWhitespace(t.substr(2));
    } else if (StartsOrderedItem(t)) {
      flush();
    }
    JoinParagraphLine(t, &paragraph);
  }
  flush();
  return absl::StrJoin(lines, "\n");
}

absl::StatusOr<std::string> NormalizeText(absl::string_view text) {
  ASSIGN_OR_RETURN(const std::u32string decoded, DecodeUtf8(text));
  std::u32string mapped;
  mapped.reserve(decoded.size());
  for (size_t i = 0; i < decoded.size(); ++i) {
    char32_t c = decoded[i];
    if (c == '\r') {
      if (i + 1 < decoded.size() && decoded[i + 1] == '\n') continue;
      c = '\n';
    }
    if (c == 0x2028 || c == 0x2029) c = '\n';
    if (c == 0x200B || c == 0x200C || c == 0x200D || c == 0xFEFF || c == 0x00AD) continue;
    if (c != '\n' && c < 0x20 && c != '\t') continue;  // control characters
    c = FoldWidth(c);
    if (c >= 0xFF01 && c <= 0xFF5E && !IsKeptFullWidthPunct(c)) c -= 0xFEE0;
    if (c != '\n' && IsSpace(c)) c = ' ';
    mapped.push_back(c);
  }

  std::string out;
  out.reserve(text.size());
  size_t line_begin = 0;
  while (line_begin <= mapped.size()) {
    size_t line_end = mapped.find(U'\n', line_begin);
    if (line_end == std::u32string::npos) line_end = mapped.size();
    const std::u32string_view raw =
        std::u32string_view(mapped).substr(line_begin, line_end - line_begin);
    line_begin = line_end + 1;
    std::u32string line;
    for (char32_t c : raw) {
      if (c == ' ' && (line.empty() || line.back() == ' ')) continue;
      line.push_back(c);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    CloseLetterSpacing(&line);
    NormalizePunctuation(&line);
    if (line.empty()) continue;
    if (!out.empty()) out.push_back('\n');
    out.append(EncodeUtf8(line));
  }
  return out;
}

absl::StatusOr<std::string> ToPlainText(absl::string_view raw, SourceFormat format) {
  // Validate first: the converters are lenient, but an invalid byte is the importer's business.
  RETURN_IF_ERROR(DecodeUtf8(raw).status());
  switch (format) {
    case SourceFormat::kHtml:
      return NormalizeText(HtmlToText(raw));
    case SourceFormat::kMarkdown:
      return NormalizeText(MarkdownToText(raw));
    case SourceFormat::kPlainText:
      break;
  }
  return NormalizeText(raw);
}

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
