// Ingestion's cleaner and metadata extraction (services/kb/ingest) on arbitrary pages. The
// first byte chooses the format (plain text, Markdown, HTML); the rest is the page. Checked
// for every input, from cleaner.h and metadata.h:
//   - ToPlainText fails exactly on invalid UTF-8 (INVALID_ARGUMENT) and is the conversion
//     followed by NormalizeText; DecodeHtmlEntities keeps valid UTF-8 valid;
//   - NormalizeText's lines are trimmed and non-empty, hold no control characters, tabs, double
//     spaces, zero-width characters, ideographic spaces, full-width letters, digits or folded
//     symbols, and no doubled clause punctuation;
//   - every document number and date found lies inside the text, in order, and its own text
//     parses back to the same value; canonical forms parse to themselves;
//   - ExtractMetadata gives canonical document numbers, YYYY-MM-DD dates and distinct
//     normalised agency names.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "services/kb/ingest/cleaner.h"
#include "services/kb/ingest/metadata.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

namespace ingest = hotline::kb::ingest;
using hotline::fuzz::DecodeUtf8Strict;
using hotline::fuzz::IsValidUtf8;

bool IsCollapsible(char32_t c) {
  return c == U'，' || c == U'。' || c == U'、' || c == U'；' || c == U'：' || c == U'？' ||
         c == U'！';
}

bool IsKeptFullWidth(char32_t c) {
  return c == U'！' || c == U'（' || c == U'）' || c == U'，' || c == U'：' || c == U'；' ||
         c == U'？';
}

void CheckNormalizedText(const std::string& out) {
  std::vector<char32_t> chars;
  FUZZ_CHECK(DecodeUtf8Strict(out, &chars)) << "NormalizeText produced invalid UTF-8";
  if (chars.empty()) return;  // Nothing but furniture or blank lines.
  const std::string shown = absl::Utf8SafeCHexEscape(out.substr(0, 300));
  size_t line_start = 0;
  for (size_t i = 0; i <= chars.size(); ++i) {
    if (i < chars.size() && chars[i] != '\n') continue;
    FUZZ_CHECK(i > line_start) << "empty line at code point " << i << " of \"" << shown << "\"";
    FUZZ_CHECK(chars[line_start] != ' ' && chars[i - 1] != ' ')
        << "untrimmed line at " << i << " of \"" << shown << "\"";
    line_start = i + 1;
  }
  for (size_t i = 0; i < chars.size(); ++i) {
    const char32_t c = chars[i];
    FUZZ_CHECK(c == '\n' || c >= 0x20) << "control character in \"" << shown << "\"";
    FUZZ_CHECK(c != 0x200B && c != 0x200C && c != 0x200D && c != 0xFEFF && c != 0x00AD &&
               c != 0x3000 && c != 0x2028 && c != 0x2029)
        << "U+" << std::hex << c << " survived in \"" << shown << "\"";
    FUZZ_CHECK(!(c >= 0xFF01 && c <= 0xFF5E) || IsKeptFullWidth(c))
        << "full-width form U+" << std::hex << c << " not folded in \"" << shown << "\"";
    if (i > 0) {
      FUZZ_CHECK(!(c == ' ' && chars[i - 1] == ' ')) << "two spaces in \"" << shown << "\"";
      FUZZ_CHECK(!(IsCollapsible(c) && chars[i - 1] == c))
          << "doubled clause punctuation in \"" << shown << "\"";
    }
  }
}

bool IsIsoDate(const std::string& date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return false;
  absl::CivilDay day;
  return absl::ParseCivilTime(date, &day) &&
         absl::FormatCivilTime(day) == date;  // A real day, written with leading zeros.
}

void CheckDocNumbers(absl::string_view text) {
  size_t previous_begin = 0;
  for (const ingest::DocNumberMatch& m : ingest::FindDocNumbers(text)) {
    FUZZ_CHECK(m.begin < m.end && m.end <= text.size())
        << "match [" << m.begin << ", " << m.end << ") of " << text.size();
    FUZZ_CHECK(m.begin >= previous_begin) << "matches out of order";
    previous_begin = m.begin;
    FUZZ_CHECK(!m.number.prefix.empty() && m.number.year > 0 && m.number.serial > 0)
        << m.number.Canonical();
    const absl::string_view own = text.substr(m.begin, m.end - m.begin);
    std::optional<ingest::DocNumber> reparsed = ingest::ParseDocNumber(own);
    FUZZ_CHECK(reparsed.has_value() && *reparsed == m.number)
        << "'" << own << "' was found as " << m.number.Canonical() << " but parses as "
        << (reparsed ? reparsed->Canonical() : std::string("nothing"));
    const std::string canonical = m.number.Canonical();
    std::optional<ingest::DocNumber> again = ingest::ParseDocNumber(canonical);
    FUZZ_CHECK(again.has_value() && *again == m.number)
        << "canonical " << canonical << " does not parse back";
  }
}

void CheckDates(absl::string_view text) {
  size_t previous_end = 0;
  for (const ingest::DateMatch& m : ingest::FindDates(text)) {
    FUZZ_CHECK(m.begin < m.end && m.end <= text.size())
        << "date [" << m.begin << ", " << m.end << ") of " << text.size();
    FUZZ_CHECK(m.begin >= previous_end) << "dates overlap or are out of order";
    previous_end = m.end;
    FUZZ_CHECK(IsIsoDate(m.date)) << "date '" << m.date << "'";
    const absl::string_view own = text.substr(m.begin, m.end - m.begin);
    std::optional<std::string> reparsed = ingest::ParseDate(own);
    FUZZ_CHECK(reparsed.has_value() && *reparsed == m.date)
        << "'" << own << "' was found as " << m.date << " but parses as "
        << reparsed.value_or("nothing");
    FUZZ_CHECK(ingest::ParseDate(m.date).value_or("") == m.date)
        << m.date << " does not parse as itself";
  }
}

void CheckMetadata(absl::string_view title, absl::string_view text) {
  const ingest::DocumentMetadata m = ingest::ExtractMetadata(title, text);
  auto canonical = [](const std::string& number) {
    std::optional<ingest::DocNumber> parsed = ingest::ParseDocNumber(number);
    return parsed.has_value() && parsed->Canonical() == number;
  };
  FUZZ_CHECK(m.doc_number.empty() || canonical(m.doc_number)) << "doc_number " << m.doc_number;
  for (size_t i = 0; i < m.doc_numbers.size(); ++i) {
    FUZZ_CHECK(canonical(m.doc_numbers[i])) << "doc_numbers[" << i << "] " << m.doc_numbers[i];
    for (size_t j = 0; j < i; ++j) FUZZ_CHECK(m.doc_numbers[j] != m.doc_numbers[i]) << "repeated";
  }
  for (size_t i = 0; i < m.agencies.size(); ++i) {
    const std::string& a = m.agencies[i];
    FUZZ_CHECK(ingest::NormalizeAgencyName(a) == a) << "agency '" << a << "' not normalised";
    FUZZ_CHECK(ingest::LooksLikeAgency(a)) << "agency '" << a << "' does not look like one";
    for (size_t j = 0; j < i; ++j) FUZZ_CHECK(m.agencies[j] != a) << "agency repeated: " << a;
  }
  // The expiry is counted from a date, so it may run past the years ParseDate accepts, but it
  // is still a real day.
  for (const std::string* date : {&m.publish_date, &m.effective_date, &m.expiry_date}) {
    FUZZ_CHECK(date->empty() || IsIsoDate(*date)) << "date '" << *date << "'";
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  ingest::SourceFormat format;
  switch (data[0] % 3) {
    case 0:
      format = ingest::SourceFormat::kPlainText;
      break;
    case 1:
      format = ingest::SourceFormat::kMarkdown;
      break;
    default:
      format = ingest::SourceFormat::kHtml;
      break;
  }
  const absl::string_view raw(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool valid = IsValidUtf8(raw);

  absl::StatusOr<std::string> plain = ingest::ToPlainText(raw, format);
  FUZZ_CHECK(plain.ok() == valid) << (valid ? "valid UTF-8 refused: " : "invalid UTF-8 accepted")
                                  << plain.status();
  if (valid) {
    std::string converted;
    switch (format) {
      case ingest::SourceFormat::kPlainText:
        converted = std::string(raw);
        break;
      case ingest::SourceFormat::kMarkdown:
        converted = ingest::MarkdownToText(raw);
        break;
      case ingest::SourceFormat::kHtml:
        converted = ingest::HtmlToText(raw);
        break;
    }
    absl::StatusOr<std::string> normalized = ingest::NormalizeText(converted);
    FUZZ_CHECK(normalized.ok() && *normalized == *plain)
        << "ToPlainText is not the conversion then NormalizeText: " << normalized.status();
    CheckNormalizedText(*plain);
    FUZZ_CHECK(IsValidUtf8(ingest::DecodeHtmlEntities(raw))) << "entities decoded to invalid UTF-8";
  } else {
    FUZZ_CHECK(absl::IsInvalidArgument(plain.status())) << plain.status();
    // The converters do not validate; they must still cope.
    ingest::HtmlToText(raw);
    ingest::MarkdownToText(raw);
    ingest::DecodeHtmlEntities(raw);
  }

  // Metadata extraction runs on cleaned text in the pipeline, but its matchers also read meta
  // tags and titles straight from pages, so the raw bytes go through them too.
  CheckDocNumbers(raw);
  CheckDates(raw);
  if (std::optional<ingest::DocNumber> whole = ingest::ParseDocNumber(raw)) {
    FUZZ_CHECK(ingest::ParseDocNumber(whole->Canonical()) == whole)
        << "canonical " << whole->Canonical() << " does not parse back";
  }
  if (std::optional<std::string> date = ingest::ParseDate(raw)) {
    FUZZ_CHECK(IsIsoDate(*date) && ingest::ParseDate(*date) == date) << "date '" << *date << "'";
  }
  const std::string agency = ingest::NormalizeAgencyName(raw);
  FUZZ_CHECK(ingest::NormalizeAgencyName(agency) == agency) << "NormalizeAgencyName not stable";
  if (plain.ok()) {
    CheckDocNumbers(*plain);
    CheckDates(*plain);
    const absl::string_view title = absl::string_view(*plain).substr(0, plain->find('\n'));
    CheckMetadata(title, *plain);
  } else {
    CheckMetadata("", raw);
  }
  return 0;
}
