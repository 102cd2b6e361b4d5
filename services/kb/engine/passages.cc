#include "services/kb/engine/passages.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace hotline::kb {
namespace {

constexpr absl::string_view kNumerals[] = {"一", "二", "三", "四", "五", "六", "七", "八",
                                           "九", "十", "百", "千", "零", "〇", "两"};

// Consumes one Chinese numeral character or ASCII digit; returns false when there is none.
bool ConsumeNumeral(absl::string_view* s) {
  if (!s->empty() && absl::ascii_isdigit(static_cast<unsigned char>((*s)[0]))) {
    s->remove_prefix(1);
    return true;
  }
  for (absl::string_view n : kNumerals) {
    if (absl::ConsumePrefix(s, n)) return true;
  }
  return false;
}

absl::string_view TrimLeft(absl::string_view line) {
  while (true) {
    line = absl::StripLeadingAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, "\u3000")) return line;  // Ideographic space.
  }
}

bool IsHeading(absl::string_view line) { return absl::StartsWith(line, "#"); }

std::string HeadingText(absl::string_view line) {
  while (absl::ConsumePrefix(&line, "#")) {
  }
  return std::string(absl::StripAsciiWhitespace(line));
}

void Append(std::string* text, absl::string_view line) {
  if (!text->empty()) text->push_back('\n');
  text->append(line.data(), line.size());
}

}  // namespace

absl::string_view ArticleLabel(absl::string_view line) {
  line = TrimLeft(line);
  absl::string_view rest = line;
  if (!absl::ConsumePrefix(&rest, "第")) return {};
  int numerals = 0;
  while (ConsumeNumeral(&rest)) ++numerals;
  if (numerals == 0 || !absl::ConsumePrefix(&rest, "条")) return {};
  absl::string_view after = rest;
  if (absl::ConsumePrefix(&after, "之")) {
    int more = 0;
    while (ConsumeNumeral(&after)) ++more;
    if (more > 0) rest = after;
  }
  return line.substr(0, line.size() - rest.size());
}

// The headings above the current line, outermost first ("第二编 物权 / 第四章 一般规定"):
// the chapter path is what tells one article about "一般规定" from another.
class HeadingPath {
 public:
  void Enter(absl::string_view line) {
    size_t level = 0;
    while (level < line.size() && line[level] == '#') ++level;
    while (!levels_.empty() && levels_.back().first >= level) levels_.pop_back();
    levels_.emplace_back(level, HeadingText(line));
  }
  std::string Text() const {
    std::string out;
    for (const auto& [level, text] : levels_) {
      if (!out.empty()) out += " / ";
      out += text;
    }
    return out;
  }

 private:
  std::vector<std::pair<size_t, std::string>> levels_;
};

std::vector<PassageText> SplitRegulation(absl::string_view markdown, bool articles_only) {
  std::vector<PassageText> out;
  HeadingPath path;
  std::string heading;
  PassageText preamble{"序言", "", ""};
  bool in_article = false;
  for (absl::string_view raw : absl::StrSplit(markdown, '\n')) {
    absl::string_view line = absl::StripTrailingAsciiWhitespace(TrimLeft(raw));
    if (line.empty()) continue;
    if (IsHeading(line)) {
      path.Enter(line);
      heading = path.Text();
      in_article = false;  // A heading closes the article before it.
      continue;
    }
    absl::string_view label = ArticleLabel(line);
    if (!label.empty()) {
      out.push_back({std::string(label), heading, std::string(line)});
      in_article = true;
    } else if (in_article) {
      Append(&out.back().text, line);
    } else if (out.empty()) {
      Append(&preamble.text, line);
    }
  }
  if (articles_only) return out;
  if (out.empty()) return SplitSections(markdown);
  if (!preamble.text.empty()) out.insert(out.begin(), std::move(preamble));
  return out;
}

std::vector<PassageText> SplitSections(absl::string_view markdown) {
  std::vector<PassageText> out;
  PassageText current;
  auto flush = [&] {
    if (!current.text.empty()) out.push_back(current);
    current.text.clear();
  };
  for (absl::string_view raw : absl::StrSplit(markdown, '\n')) {
    absl::string_view line = absl::StripTrailingAsciiWhitespace(TrimLeft(raw));
    if (line.empty()) continue;
    if (IsHeading(line)) {
      flush();
      current.label = HeadingText(line);
      current.heading = current.label;
      continue;
    }
    Append(&current.text, line);
  }
  flush();
  return out;
}

}  // namespace hotline::kb
