#include "services/kb/ingest/metadata.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "services/kb/ingest/internal/unicode.h"

namespace hotline::kb::ingest {
namespace {

using ingest_internal::AppendUtf8;
using ingest_internal::DecodeUtf8Lenient;
using ingest_internal::DigitValue;
using ingest_internal::EncodeUtf8;
using ingest_internal::FoldWidth;
using ingest_internal::IsDigit;
using ingest_internal::IsHan;
using ingest_internal::IsSpace;

// Text as code points with the byte offset where each starts (plus one for the end), so matches
// found on code points can be reported as byte offsets into the caller's string.
struct Text32 {
  std::vector<size_t> offset;  // declared first: the constructor fills it while decoding `s`
  std::u32string s;

  explicit Text32(absl::string_view utf8) : s(DecodeUtf8Lenient(utf8, &offset)) {}
  char32_t at(size_t i) const { return i < s.size() ? s[i] : 0; }
};

size_t SkipSpaces(const Text32& t, size_t i) {
  while (i < t.s.size() && IsSpace(t.s[i])) ++i;
  return i;
}

// Reads up to `max_digits` digits at t[*i]; false if there are none or more than `max_digits`.
bool ReadNumber(const Text32& t, size_t* i, int max_digits, int* value) {
  int count = 0;
  int v = 0;
  while (*i < t.s.size() && IsDigit(t.s[*i])) {
    if (++count > max_digits) return false;
    v = v * 10 + DigitValue(t.s[*i]);
    ++*i;
  }
  if (count == 0) return false;
  *value = v;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Document numbers

bool IsOpenBracket(char32_t c) {
  return c == U'〔' || c == U'[' || c == U'［' || c == U'（' || c == U'(' || c == U'【' ||
         c == U'〖';
}

bool IsCloseBracket(char32_t c) {
  return c == U'〕' || c == U']' || c == U'］' || c == U'）' || c == U')' || c == U'】' ||
         c == U'〗';
}

bool IsPrefixChar(char32_t c) {
  c = FoldWidth(c);
  return IsHan(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// Words that end the running text before a cited document number: citations (根据湘政发...) and
// titles run into their number (...的通知湘政发〔2023〕5号). The prefix starts after the last one.
constexpr std::u32string_view kPrefixCutWords[] = {
    U"根据", U"依据", U"按照", U"参照", U"遵照", U"对照", U"贯彻", U"落实",
    U"执行", U"详见", U"参见", U"通知", U"意见", U"办法", U"决定", U"规定",
    U"方案", U"细则", U"文件", U"精神", U"要求", U"印发", U"转发", U"以及",
    U"和",   U"及",   U"与",   U"或",   U"的",   U"即",   U"见"};

constexpr int kMaxPrefixChars = 10;

std::u32string TrimPrefix(std::u32string prefix) {
  // Cut after the last cut word that leaves at least two characters: an issuer code is never a
  // single character, so a cut that would leave one is a cut word inside the code itself.
  size_t cut = 0;
  for (std::u32string_view word : kPrefixCutWords) {
    for (size_t pos = prefix.find(word); pos != std::u32string::npos;
         pos = prefix.find(word, pos + 1)) {
      const size_t after = pos + word.size();
      if (after + 2 <= prefix.size()) cut = std::max(cut, after);
    }
  }
  return prefix.substr(cut);
}

// Tries to match a document number whose year bracket opens at t[open].
std::optional<DocNumberMatch> MatchDocNumberAt(const Text32& t, size_t open) {
  size_t i = SkipSpaces(t, open + 1);
  const size_t year_begin = i;
  int year = 0;
  if (!ReadNumber(t, &i, 4, &year) || i - year_begin != 4 || year < 1949 || year > 2100) {
    return std::nullopt;
  }
  i = SkipSpaces(t, i);
  if (!IsCloseBracket(t.at(i))) return std::nullopt;
  i = SkipSpaces(t, i + 1);
  if (t.at(i) == U'第') i = SkipSpaces(t, i + 1);
  int serial = 0;
  if (!ReadNumber(t, &i, 5, &serial) || serial == 0) return std::nullopt;
  i = SkipSpaces(t, i);
  if (t.at(i) != U'号') return std::nullopt;
  const size_t end = i + 1;

  // The prefix: characters right before the bracket (a space allowed between), at most
  // kMaxPrefixChars of them.
  size_t p = open;
  while (p > 0 && IsSpace(t.s[p - 1])) --p;
  size_t begin = p;
  while (begin > 0 && IsPrefixChar(t.s[begin - 1]) && p - begin < kMaxPrefixChars) --begin;
  std::u32string prefix;
  for (size_t k = begin; k < p; ++k) prefix.push_back(FoldWidth(t.s[k]));
  const std::u32string trimmed = TrimPrefix(prefix);
  if (trimmed.empty()) return std::nullopt;
  begin += prefix.size() - trimmed.size();

  DocNumberMatch match;
  match.number.prefix = EncodeUtf8(trimmed);
  match.number.year = year;
  match.number.serial = serial;
  match.begin = t.offset[begin];
  match.end = t.offset[end];
  return match;
}

// ---------------------------------------------------------------------------------------------
// Dates

// The value of a Chinese digit character as written in dates, or -1.
int ChineseDigit(char32_t c) {
  switch (c) {
    case U'〇':
    case U'○':
    case U'零':
    case U'O':
    case U'Ｏ':
    case U'o':
      return 0;
    case U'一':
      return 1;
    case U'二':
    case U'两':
      return 2;
    case U'三':
      return 3;
    case U'四':
      return 4;
    case U'五':
      return 5;
    case U'六':
      return 6;
    case U'七':
      return 7;
    case U'八':
      return 8;
    case U'九':
      return 9;
    default:
      return -1;
  }
}

// A Chinese number from 1 to 99 at t[*i]: 五, 十, 十二, 二十, 三十一.
bool ReadChineseSmallNumber(const Text32& t, size_t* i, int* value) {
  size_t j = *i;
  int tens = 0;
  int units = -1;
  const int first = ChineseDigit(t.at(j));
  if (t.at(j) == U'十') {
    tens = 1;
    ++j;
  } else if (first > 0) {
    ++j;
    if (t.at(j) == U'十') {
      tens = first;
      ++j;
    } else {
      units = first;
    }
  } else {
    return false;
  }
  if (tens > 0) {
    const int unit = ChineseDigit(t.at(j));
    if (unit > 0) {
      units = unit;
      ++j;
    } else {
      units = 0;
    }
  }
  *value = tens * 10 + units;
  *i = j;
  return *value > 0;
}

bool ValidDate(int year, int month, int day) {
  if (year < 1900 || year > 2100 || month < 1 || month > 12 || day < 1) return false;
  const absl::CivilDay civil(year, month, day);
  // CivilDay normalises 2月30日 to 3月2日; a date is valid when it survives unchanged.
  return civil.month() == month && civil.day() == day;
}

std::string FormatDate(int year, int month, int day) {
  return absl::StrFormat("%04d-%02d-%02d", year, month, day);
}

bool IsDateUnitEnd(char32_t c) { return c == U'日' || c == U'号'; }

// 2023年5月9日, 2023-05-09, 2023/5/9, 2023.5.9 at t[begin].
std::optional<DateMatch> MatchArabicDateAt(const Text32& t, size_t begin) {
  size_t i = begin;
  int year = 0;
  if (!ReadNumber(t, &i, 4, &year) || i - begin != 4) return std::nullopt;
  int month = 0;
  int day = 0;
  const size_t after_year = SkipSpaces(t, i);
  if (t.at(after_year) == U'年') {
    i = SkipSpaces(t, after_year + 1);
    if (!ReadNumber(t, &i, 2, &month)) return std::nullopt;
    i = SkipSpaces(t, i);
    if (t.at(i) != U'月') return std::nullopt;
    i = SkipSpaces(t, i + 1);
    if (!ReadNumber(t, &i, 2, &day)) return std::nullopt;
    i = SkipSpaces(t, i);
    if (!IsDateUnitEnd(t.at(i))) return std::nullopt;
    ++i;
  } else {
    const char32_t separator = t.at(i);
    if (separator != '-' && separator != '/' && separator != '.') return std::nullopt;
    ++i;
    if (!ReadNumber(t, &i, 2, &month) || t.at(i) != separator) return std::nullopt;
    ++i;
    if (!ReadNumber(t, &i, 2, &day)) return std::nullopt;
    // "2023.5.9.1" is a version or a section number, not a date.
    if (IsDigit(t.at(i)) || (t.at(i) == separator && IsDigit(t.at(i + 1)))) return std::nullopt;
  }
  if (!ValidDate(year, month, day)) return std::nullopt;
  return DateMatch{FormatDate(year, month, day), t.offset[begin], t.offset[i]};
}

// 二〇二三年五月九日 at t[begin].
std::optional<DateMatch> MatchChineseDateAt(const Text32& t, size_t begin) {
  size_t i = begin;
  int year = 0;
  for (int k = 0; k < 4; ++k, ++i) {
    const int digit = ChineseDigit(t.at(i));
    if (digit < 0 || t.at(i) == U'两') return std::nullopt;
    year = year * 10 + digit;
  }
  i = SkipSpaces(t, i);
  if (t.at(i) != U'年') return std::nullopt;
  i = SkipSpaces(t, i + 1);
  int month = 0;
  int day = 0;
  if (!ReadChineseSmallNumber(t, &i, &month)) return std::nullopt;
  i = SkipSpaces(t, i);
  if (t.at(i) != U'月') return std::nullopt;
  i = SkipSpaces(t, i + 1);
  if (!ReadChineseSmallNumber(t, &i, &day)) return std::nullopt;
  i = SkipSpaces(t, i);
  if (!IsDateUnitEnd(t.at(i))) return std::nullopt;
  ++i;
  if (!ValidDate(year, month, day)) return std::nullopt;
  return DateMatch{FormatDate(year, month, day), t.offset[begin], t.offset[i]};
}

std::vector<DateMatch> FindDates32(const Text32& t) {
  std::vector<DateMatch> out;
  size_t i = 0;
  while (i < t.s.size()) {
    std::optional<DateMatch> match;
    const char32_t previous = i > 0 ? t.s[i - 1] : 0;
    if (IsDigit(t.s[i]) && !IsDigit(previous) && previous != '.' && previous != '-') {
      match = MatchArabicDateAt(t, i);
    } else if (ChineseDigit(t.s[i]) >= 0 && ChineseDigit(previous) < 0) {
      match = MatchChineseDateAt(t, i);
    }
    if (match.has_value()) {
      const size_t end_byte = match->end;
      out.push_back(*std::move(match));
      while (i < t.s.size() && t.offset[i] < end_byte) ++i;
    } else {
      ++i;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Agencies

constexpr std::u32string_view kAgencySuffixes[] = {
    U"人民政府", U"办公厅", U"办公室", U"委员会", U"局", U"厅", U"中心", U"部", U"委",
    U"署",       U"院",     U"办",     U"所",     U"站", U"会", U"处",   U"司"};

// Labels whose value names the issuing agency in page headers and metadata tables.
constexpr absl::string_view kAgencyLabels[] = {"发文机关：", "发文单位：", "发布机构：",
                                               "发布单位：", "信息来源：", "来源："};

// Labels of the publish date, most specific first.
constexpr absl::string_view kPublishLabels[] = {"发布日期", "发布时间", "公布日期",
                                                "印发日期", "成文日期", "发文日期"};

// What follows an effective date: 自2023年6月1日起施行.
constexpr absl::string_view kEffectiveSuffixes[] = {
    "起施行", "起执行",     "起实施",   "起生效", "起正式施行", "起正式实施", "起正式执行",
    "起试行", "起开始施行", "开始施行", "施行",   "实施",       "生效",       "执行"};

void AddDistinct(std::string value, std::vector<std::string>* out) {
  if (value.empty()) return;
  if (std::find(out->begin(), out->end(), value) == out->end()) out->push_back(std::move(value));
}

// Adds the agencies a head or foot line names: the line itself, or each of its space-separated
// parts when every part is an agency (joint issuers).
void AgenciesOfLine(absl::string_view line, std::vector<std::string>* out) {
  line = absl::StripAsciiWhitespace(line);
  // A signature may share its line with the date: "湖南省人民政府 2023年5月9日".
  std::string without_dates;
  size_t last = 0;
  for (const DateMatch& date : FindDates(line)) {
    absl::StrAppend(&without_dates, line.substr(last, date.begin - last));
    without_dates.push_back(' ');
    last = date.end;
  }
  absl::StrAppend(&without_dates, line.substr(last));
  std::vector<std::string> parts;
  bool all_agencies = true;
  for (absl::string_view part : absl::StrSplit(without_dates, ' ', absl::SkipWhitespace())) {
    std::string name = NormalizeAgencyName(part);
    all_agencies = all_agencies && LooksLikeAgency(name);
    parts.push_back(std::move(name));
  }
  if (parts.empty()) return;
  if (all_agencies) {
    for (std::string& name : parts) AddDistinct(std::move(name), out);
    return;
  }
  std::string whole = NormalizeAgencyName(without_dates);
  if (LooksLikeAgency(whole)) AddDistinct(std::move(whole), out);
}

// The first date on `line` after `label`, or empty.
std::string DateAfterLabel(absl::string_view line, absl::string_view label) {
  const size_t pos = line.find(label);
  if (pos == absl::string_view::npos) return "";
  const std::vector<DateMatch> dates = FindDates(line.substr(pos + label.size()));
  return dates.empty() ? "" : dates.front().date;
}

// A line that is a date and nothing else (the date under a signature).
bool IsDateLine(absl::string_view line, std::string* date) {
  std::optional<std::string> parsed = ParseDate(line);
  if (!parsed.has_value()) return false;
  *date = *std::move(parsed);
  return true;
}

// "5年", "五年", "两年" at the start of `text` (spaces and 为 allowed before): the number of years.
std::optional<int> YearsAt(absl::string_view text) {
  const Text32 t(text);
  size_t i = SkipSpaces(t, 0);
  if (t.at(i) == U'为') i = SkipSpaces(t, i + 1);
  int years = 0;
  if (!ReadNumber(t, &i, 2, &years) && !ReadChineseSmallNumber(t, &i, &years)) return std::nullopt;
  i = SkipSpaces(t, i);
  if (t.at(i) != U'年' || years <= 0) return std::nullopt;
  return years;
}

// The day before the `years`-th anniversary of `date` (YYYY-MM-DD): a validity of 5 years from
// 2023-06-01 ends on 2028-05-31.
std::string AddYearsMinusOneDay(const std::string& date, int years) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(date, &day)) return "";
  const absl::CivilDay end = absl::CivilDay(day.year() + years, day.month(), day.day()) - 1;
  return FormatDate(static_cast<int>(end.year()), end.month(), end.day());
}

// The end of the sentence that starts at text[pos].
size_t SentenceEnd(absl::string_view text, size_t pos) {
  size_t end = text.size();
  for (absl::string_view stop : {"。", "；", "\n"}) {
    const size_t found = text.find(stop, pos);
    if (found != absl::string_view::npos) end = std::min(end, found);
  }
  return end;
}

// The start of the sentence that contains text[pos].
size_t SentenceStart(absl::string_view text, size_t pos) {
  size_t start = 0;
  for (absl::string_view stop : {"。", "；", "\n"}) {
    const size_t found = text.substr(0, pos).rfind(stop);
    if (found != absl::string_view::npos) start = std::max(start, found + stop.size());
  }
  return start;
}

// How a document refers to itself: 本办法自2023年6月1日起施行.
constexpr absl::string_view kSelfReferences[] = {"本办法", "本通知", "本规定", "本意见", "本决定",
                                                 "本条例", "本细则", "本方案", "本公告", "本规则",
                                                 "本措施", "本政策", "本实施", "本文件", "本指南"};

std::string FindEffectiveDate(absl::string_view text, const std::string& publish_date) {
  // Of the dates followed by 起施行 and the like, one in a sentence about the document itself
  // (本办法自...起施行) wins, else the last one: the document's own clause is in its final
  // articles, earlier ones tend to say when other rules took effect. A date in an attributive
  // ("2019年1月1日起施行的原规定同时废止") is about another rule and never counts.
  std::string effective;
  size_t effective_at = 0;
  bool effective_is_self = false;
  for (const DateMatch& date : FindDates(text)) {
    absl::string_view after = absl::StripLeadingAsciiWhitespace(text.substr(date.end));
    for (absl::string_view suffix : kEffectiveSuffixes) {
      if (!absl::StartsWith(after, suffix)) continue;
      if (absl::StartsWith(after.substr(suffix.size()), "的")) break;
      const absl::string_view sentence = text.substr(SentenceStart(text, date.begin),
                                                     date.begin - SentenceStart(text, date.begin));
      const bool self =
          std::any_of(std::begin(kSelfReferences), std::end(kSelfReferences),
                      [&](absl::string_view word) { return absl::StrContains(sentence, word); });
      if (self || !effective_is_self) {
        effective = date.date;
        effective_at = date.begin;
        effective_is_self = self;
      }
      break;
    }
  }
  // 自印发之日起施行: the effective date is the publish date, unless an explicit date of the
  // document itself comes later.
  for (absl::string_view phrase :
       {"自印发之日起", "自发布之日起", "自公布之日起", "自发文之日起"}) {
    const size_t pos = text.rfind(phrase);
    if (pos != absl::string_view::npos && !publish_date.empty() &&
        (effective.empty() || pos > effective_at)) {
      effective = publish_date;
      effective_at = pos;
    }
  }
  return effective;
}

std::string FindExpiryDate(absl::string_view text, const std::string& effective_date,
                           const std::string& publish_date) {
  std::string expiry;
  for (size_t pos = text.find("有效期"); pos != absl::string_view::npos;
       pos = text.find("有效期", pos + 1)) {
    const size_t after_label = pos + std::string_view("有效期").size();
    const absl::string_view sentence =
        text.substr(after_label, SentenceEnd(text, after_label) - after_label);
    // 有效期至2025年12月31日, 有效期到..., 有效期自2023年6月1日起至2028年5月31日止.
    for (absl::string_view until : {"至", "到", "截至", "截止"}) {
      size_t at = sentence.find(until);
      while (at != absl::string_view::npos) {
        const std::vector<DateMatch> dates = FindDates(sentence.substr(at + until.size()));
        if (!dates.empty() && dates.front().begin <= 1) {
          expiry = dates.front().date;
          break;
        }
        at = sentence.find(until, at + 1);
      }
      if (!expiry.empty()) break;
    }
    if (!expiry.empty()) continue;
    // 有效期5年, 有效期为五年: counted from when it takes effect.
    const std::optional<int> years = YearsAt(sentence);
    const std::string& from = effective_date.empty() ? publish_date : effective_date;
    if (years.has_value() && !from.empty()) expiry = AddYearsMinusOneDay(from, *years);
  }
  return expiry;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::string DocNumber::Canonical() const {
  return absl::StrCat(prefix, "〔", year, "〕", serial, "号");
}

std::vector<DocNumberMatch> FindDocNumbers(absl::string_view text) {
  const Text32 t(text);
  std::vector<DocNumberMatch> out;
  for (size_t i = 0; i < t.s.size(); ++i) {
    if (!IsOpenBracket(t.s[i])) continue;
    std::optional<DocNumberMatch> match = MatchDocNumberAt(t, i);
    if (match.has_value()) out.push_back(*std::move(match));
  }
  return out;
}

std::optional<DocNumber> ParseDocNumber(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  std::vector<DocNumberMatch> matches = FindDocNumbers(text);
  if (matches.size() != 1 || matches[0].begin != 0 || matches[0].end != text.size()) {
    return std::nullopt;
  }
  return std::move(matches[0].number);
}

std::vector<DateMatch> FindDates(absl::string_view text) { return FindDates32(Text32(text)); }

std::optional<std::string> ParseDate(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  std::vector<DateMatch> matches = FindDates(text);
  if (matches.size() != 1 || matches[0].begin != 0 || matches[0].end != text.size()) {
    return std::nullopt;
  }
  return std::move(matches[0].date);
}

std::string NormalizeAgencyName(absl::string_view name) {
  const Text32 t(name);
  std::string out;
  for (char32_t c : t.s) {
    if (IsSpace(c)) continue;
    c = FoldWidth(c);
    if (c == '(') c = U'（';
    if (c == ')') c = U'）';
    AppendUtf8(c, &out);
  }
  return out;
}

bool LooksLikeAgency(absl::string_view name) {
  const Text32 t(name);
  if (t.s.size() < 3 || t.s.size() > 30) return false;
  for (char32_t c : t.s) {
    if (!IsHan(c) && c != U'（' && c != U'）') return false;
  }
  for (std::u32string_view suffix : kAgencySuffixes) {
    if (t.s.size() > suffix.size() &&
        t.s.compare(t.s.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return true;
    }
  }
  return false;
}

DocumentMetadata ExtractMetadata(absl::string_view title, absl::string_view text,
                                 const MetadataOptions& options) {
  DocumentMetadata metadata;
  std::vector<absl::string_view> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    lines.push_back(absl::StripAsciiWhitespace(line));
  }
  const size_t head_end = std::min(lines.size(), static_cast<size_t>(options.header_lines));
  const size_t foot_begin =
      lines.size() - std::min(lines.size(), static_cast<size_t>(options.footer_lines));

  // Document number: a labelled one, then the head, the title, the foot.
  for (const DocNumberMatch& match : FindDocNumbers(text)) {
    AddDistinct(match.number.Canonical(), &metadata.doc_numbers);
  }
  auto first_number_in = [](absl::string_view s) -> std::string {
    const std::vector<DocNumberMatch> matches = FindDocNumbers(s);
    return matches.empty() ? "" : matches.front().number.Canonical();
  };
  for (absl::string_view line : lines) {
    if (absl::StrContains(line, "文号") && metadata.doc_number.empty()) {
      metadata.doc_number = first_number_in(line);
    }
  }
  for (size_t i = 0; i < head_end && metadata.doc_number.empty(); ++i) {
    metadata.doc_number = first_number_in(lines[i]);
  }
  if (metadata.doc_number.empty()) metadata.doc_number = first_number_in(title);
  for (size_t i = foot_begin; i < lines.size() && metadata.doc_number.empty(); ++i) {
    metadata.doc_number = first_number_in(lines[i]);
  }

  // Agencies: labelled values anywhere, then the lines of the head and the foot.
  for (absl::string_view line : lines) {
    for (absl::string_view label : kAgencyLabels) {
      const size_t pos = line.find(label);
      if (pos == absl::string_view::npos) continue;
      const absl::string_view value =
          absl::StripLeadingAsciiWhitespace(line.substr(pos + label.size()));
      const std::string name = NormalizeAgencyName(value.substr(0, value.find(' ')));
      if (LooksLikeAgency(name)) AddDistinct(name, &metadata.agencies);
    }
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i < head_end || i >= foot_begin) AgenciesOfLine(lines[i], &metadata.agencies);
  }

  // Publish date: labelled, else a date line in the foot (the last), else in the head.
  for (absl::string_view label : kPublishLabels) {
    for (absl::string_view line : lines) {
      if (metadata.publish_date.empty()) metadata.publish_date = DateAfterLabel(line, label);
    }
  }
  std::string date;
  for (size_t i = lines.size(); i > foot_begin && metadata.publish_date.empty(); --i) {
    if (IsDateLine(lines[i - 1], &date)) metadata.publish_date = date;
  }
  for (size_t i = 0; i < head_end && metadata.publish_date.empty(); ++i) {
    if (IsDateLine(lines[i], &date)) metadata.publish_date = date;
  }

  metadata.effective_date = FindEffectiveDate(text, metadata.publish_date);
  metadata.expiry_date = FindExpiryDate(text, metadata.effective_date, metadata.publish_date);
  return metadata;
}

}  // namespace hotline::kb::ingest
