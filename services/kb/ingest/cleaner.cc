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
using ingest_internal::IsChinesePunct;
using ingest_internal::IsCjkText;
using ingest_internal::IsHan;
using ingest_internal::IsSpace;

// ---------------------------------------------------------------------------------------------
// Character classes

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

}  // namespace

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

}  // namespace hotline::kb::ingest
