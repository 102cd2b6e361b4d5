// Cleaning, the first step of ingestion: turns what a source delivers (an HTML page, Markdown,
// plain text) into the clean text the rest of the pipeline and the search index work on, one
// paragraph per line and headings as Markdown '#' lines (so passages.h can split at them), and
// removes the page furniture (打印本页, 【字体：大 中 小】, 版权所有...) that would otherwise be
// indexed as content and make copies of one document from two websites look different.
//
// The pipeline runs, per document:
//   ASSIGN_OR_RETURN(std::string text, ToPlainText(raw, SourceFormat::kHtml));
//   metadata = ExtractMetadata(title, text);          // metadata.h, before furniture goes
//   remover.Observe(source, text);                    // for every document of the batch, then
//   std::string body = remover.Remove(source, text);
// Metadata comes first because a signature line such as 湖南省人民政府, repeated in every document
// of one column, is exactly what the repeated-line rule removes.
#ifndef HOTLINE_SERVICES_KB_INGEST_CLEANER_H_
#define HOTLINE_SERVICES_KB_INGEST_CLEANER_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hotline::kb::ingest {

enum class SourceFormat { kPlainText, kMarkdown, kHtml };

// Decodes HTML character references: the named ones that occur in Chinese government pages
// (&nbsp; &amp; &ldquo; &mdash; &middot; ...) and every numeric one (&#20303; &#x4F4F;). Unknown
// names are left as they are; a numeric reference to a non-character becomes U+FFFD.
std::string DecodeHtmlEntities(absl::string_view text);

// HTML to text lines. Drops <head>, <script>, <style>, <nav>, <aside>, forms and elements whose
// id or class names page furniture (nav, menu, breadcrumb, share, footer...); drops <header> and
// <footer> (and class="header"/"footer") unless they sit inside <article> or <main>, where HTML5
// makes them the article's own.
// Block elements end lines, <h1>-<h6> become "#"-"######" lines, table cells are separated by a
// space, <pre> keeps its line breaks. A line break in the page source between two Chinese
// characters is dropped (hard-wrapped sources), elsewhere it is a space, as a browser shows it.
// Does not validate UTF-8 (ToPlainText does).
std::string HtmlToText(absl::string_view html);

// Markdown to text lines: ATX and setext headings become "# " lines, paragraphs are joined onto
// one line, emphasis, links ([text](url) -> text), images, inline code marks, HTML tags,
// blockquote marks, bullets and table pipes go; fenced code keeps its lines.
std::string MarkdownToText(absl::string_view markdown);

// Whitespace and punctuation normalisation of text lines:
//   - full-width letters and digits to ASCII ("２０２３" -> "2023"), U+3000 to a space, and the
//     full-width forms of ASCII symbols (％ ＋ ／ ［ ...) to ASCII; Chinese punctuation
//     (，。；：？！ （）《》【】、“”) stays, since it is what the text is written in;
//   - ASCII , ; : ? ! next to a Chinese character become ，；：？！, and a pair of ASCII
//   parentheses
//     around or after Chinese becomes （）, so one text does not mix both styles;
//   - runs of the same Chinese clause punctuation collapse ("。。" -> "。");
//   - zero-width characters vanish, other whitespace becomes one space, lines are trimmed, a line
//     whose Chinese characters are letter-spaced ("通 知") is closed up, empty lines are dropped.
// Deliberately not NFKC (the analyser's Normalizer): that would fold Chinese punctuation to ASCII
// and lower-case letters, which is right for matching but wrong for the text a caller reads.
// Errors: InvalidArgumentError naming the byte offset of invalid UTF-8.
absl::StatusOr<std::string> NormalizeText(absl::string_view text);

// Conversion by `format`, then NormalizeText.
absl::StatusOr<std::string> ToPlainText(absl::string_view raw, SourceFormat format);

struct BoilerplateOptions {
  // Page-furniture phrases. A line made up only of these (ignoring punctuation, spaces and case)
  // is dropped: "打印本页 关闭窗口", "【字体：大 中 小】", "分享到：微信 微博 QQ空间". Inside a
  // line, a 【...】 or [...] group made up only of them is cut out. Defaults: kDefaultPhrases.
  std::vector<std::string> phrases;
  // A line starting with one of these is dropped: "当前位置：首页 > 政策文件", "上一篇：...".
  std::vector<std::string> line_prefixes;
  // A line containing one of these is dropped if it is at most `max_marker_line_chars` long
  // (site footers: "版权所有：...", "湘ICP备...", "网站标识码4300000000"). Longer lines are not
  // checked against `phrases` either: furniture is short.
  std::vector<std::string> line_markers;
  size_t max_marker_line_chars = 120;
  // The repeated-line rule: a line of at most `max_repeated_line_chars` code points that occurs in
  // at least `min_repeated_fraction` of the observed documents of its source, and in at least
  // `min_repeated_documents` of them, is that source's furniture.
  size_t max_repeated_line_chars = 30;
  double min_repeated_fraction = 0.5;
  int min_repeated_documents = 3;

  // Options with the default lists filled in.
  static BoilerplateOptions Defaults();
};

// Removes boilerplate lines by the generic lists and by what repeats across one source's
// documents. Observe() is not thread-safe; once observing is done, the const methods are.
class BoilerplateRemover {
 public:
  explicit BoilerplateRemover(BoilerplateOptions options = BoilerplateOptions::Defaults());

  // Counts the distinct short lines of one document of `source` (text as ToPlainText returns).
  void Observe(absl::string_view source, absl::string_view text);

  // Whether `line` is furniture by the generic rules alone.
  bool IsGenericBoilerplate(absl::string_view line) const;
  // Whether `line` repeats across `source`'s observed documents (see BoilerplateOptions).
  bool IsRepeatedInSource(absl::string_view source, absl::string_view line) const;

  // `text` without its boilerplate lines and with furniture groups cut out of the others.
  std::string Remove(absl::string_view source, absl::string_view text) const;

 private:
  // Whether `text`, reduced to lower-case letters and digits, is a concatenation of phrases.
  bool CoveredByPhrases(absl::string_view text) const;
  std::string CutFurnitureGroups(absl::string_view line) const;

  struct SourceStats {
    int documents = 0;
    absl::flat_hash_map<std::string, int> line_documents;
  };

  BoilerplateOptions options_;
  absl::flat_hash_set<std::u32string> phrases_;  // reduced like the text they are matched against
  size_t longest_phrase_ = 0;
  absl::flat_hash_map<std::string, SourceStats> sources_;
};

}  // namespace hotline::kb::ingest

#endif  // HOTLINE_SERVICES_KB_INGEST_CLEANER_H_
