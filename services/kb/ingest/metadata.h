// Metadata extraction, the second step of ingestion: the unified fields every policy entry carries
// whatever its source wrote them like - the document number (文号) in one canonical form, dates as
// YYYY-MM-DD, issuing agencies, and the publish / effective / expiry dates the life cycle needs.
// Sources disagree on form (湘政发[2023]5号 on one website, 湘政发〔2023〕5号 in the official text,
// 二〇二三年五月九日 under the signature, 2023-05-09 in a page header); de-duplication and version
// detection only work once these agree.
#ifndef HOTLINE_SERVICES_KB_INGEST_METADATA_H_
#define HOTLINE_SERVICES_KB_INGEST_METADATA_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace hotline::kb::ingest {

// A document number: issuer code and kind (湘政发, 国办函, 人社部规), year and serial.
struct DocNumber {
  std::string prefix;  // Han characters (and ASCII letters) before the year, e.g. "湘政发"
  int year = 0;
  int serial = 0;

  // "湘政发〔2023〕5号": the bracket form of the national standard for official documents
  // (GB/T 9704), no 第, no leading zeros.
  std::string Canonical() const;
  bool operator==(const DocNumber& other) const {
    return prefix == other.prefix && year == other.year && serial == other.serial;
  }
};

struct DocNumberMatch {
  DocNumber number;
  size_t begin = 0;  // byte offsets of the match in the searched text
  size_t end = 0;
};

// Every document number in `text`, in order. Accepts the brackets 〔〕 [] ［］ （） () 【】 〖〗
// around a four-digit year (ASCII or full-width digits), spaces between the parts, and 第 before
// the serial: 湘政发〔2023〕5号, 湘政发[2023]5号, 湘政发（2023）5号, 湘政发〔2023〕第5号. The
// prefix is at most 10 characters back from the bracket, cut at punctuation and after the words
// that introduce a citation in running text (根据, 按照, 依据...): "根据湘政发〔2023〕5号文件"
// gives 湘政发.
std::vector<DocNumberMatch> FindDocNumbers(absl::string_view text);

// `text` as one document number and nothing else (surrounding spaces allowed), or nullopt.
std::optional<DocNumber> ParseDocNumber(absl::string_view text);

struct DateMatch {
  std::string date;  // YYYY-MM-DD
  size_t begin = 0;  // byte offsets of the match in the searched text
  size_t end = 0;
};

// Every valid calendar date in `text`, in order: 2023年5月9日 (spaces and leading zeros allowed),
// 二〇二三年五月九日 (with 〇, ○, 零 or O for zero, 十 in month and day), 2023-05-09, 2023/5/9,
// 2023.5.9. Impossible dates (2023年2月30日) are not matches. A number running into the match
// ("12023-05-09") stops it from matching.
std::vector<DateMatch> FindDates(absl::string_view text);

// `text` as one date and nothing else (surrounding spaces allowed), as YYYY-MM-DD, or nullopt.
std::optional<std::string> ParseDate(absl::string_view text);

// An agency name in its canonical form: all whitespace removed (names are letter-spaced in
// headers: "湖 南 省 人 民 政 府"), full-width letters and digits to ASCII, ASCII parentheses to
// Chinese ones.
std::string NormalizeAgencyName(absl::string_view name);

// Whether `name` (normalised) looks like an agency: 3 to 30 characters, Han characters and
// parentheses only, ending in one of the agency suffixes (人民政府, 办公厅, 办公室, 局, 委员会, 厅,
// 中心, 部, 委, 署, 院, 办, 所, 站, 会...).
bool LooksLikeAgency(absl::string_view name);

struct DocumentMetadata {
  std::string doc_number;                // canonical, or empty
  std::vector<std::string> doc_numbers;  // every distinct one in the text, canonical
  std::vector<std::string> agencies;     // normalised, in order of appearance, distinct
  std::string publish_date;              // YYYY-MM-DD or empty
  std::string effective_date;
  std::string expiry_date;
};

struct MetadataOptions {
  // Agencies are looked for in this many non-empty lines at the head and at the foot of the text,
  // where the issuer and the signature stand; the body names many agencies that did not issue it.
  int header_lines = 6;
  int footer_lines = 6;
};

// Extracts the metadata of a document from its title and its cleaned text (cleaner.h):
//   - doc_number: the first document number of the head lines (the line under the title), else of
//     the title, else of the footer; a number cited in the body is some other document's.
//   - agencies: lines of the head and foot that are agency names or lists of them ("湖南省人民政府
//     办公厅 湖南省财政厅"), and the values of labels such as 发文机关：, 发布机构：, 来源：.
//   - publish_date: a labelled date (发布日期/发布时间/印发日期/成文日期/公布日期), else a line
//   that
//     is only a date in the foot (under the signature), else one in the head.
//   - effective_date: the date before 起施行 (起执行, 起实施, 起生效, 施行...) in a sentence about
//   the
//     document itself (本办法自2023年6月1日起施行), else the last such date, never one in an
//     attributive (2019年1月1日起施行的原规定同时废止); 自印发之日起施行 and 自发布之日起 give the
//     publish date.
//   - expiry_date: "有效期至2025年12月31日", or "有效期5年" / "有效期为五年" counted from the
//   effective
//     date (else the publish date) as the day before the anniversary.
DocumentMetadata ExtractMetadata(absl::string_view title, absl::string_view text,
                                 const MetadataOptions& options = MetadataOptions());

}  // namespace hotline::kb::ingest

#endif  // HOTLINE_SERVICES_KB_INGEST_METADATA_H_
