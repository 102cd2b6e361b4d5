// Splits an entry's text into the passages that search answers with: each article of a
// regulation (a line starting "第N条"), each headed section of a guide, a Q&A pair whole.
#ifndef HOTLINE_SERVICES_KB_ENGINE_PASSAGES_H_
#define HOTLINE_SERVICES_KB_ENGINE_PASSAGES_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace hotline::kb {

struct PassageText {
  std::string label;    // "第六十条", a section heading, or empty for a whole entry.
  std::string heading;  // The chapter or section it sits in, e.g. "第三章 待遇"; may be empty.
  std::string text;     // The passage, including its label line.
};

// If `line` (leading spaces ignored) starts with an article label such as "第一百四十四条" or
// "第十条之一", returns that label; otherwise an empty view.
absl::string_view ArticleLabel(absl::string_view line);

// Articles of a regulation in Markdown ("## 第一章 总则" headings, "第N条 ..." lines). Text
// before the first article (a preamble) is dropped when `articles_only`, else kept as a
// passage labelled "序言". A document without any article line is split at its Markdown
// headings instead (or kept whole when it has none), unless `articles_only`.
std::vector<PassageText> SplitRegulation(absl::string_view markdown, bool articles_only);

// Sections of a service guide or other Markdown text: one passage per heading.
std::vector<PassageText> SplitSections(absl::string_view markdown);

}  // namespace hotline::kb

#endif  // HOTLINE_SERVICES_KB_ENGINE_PASSAGES_H_
