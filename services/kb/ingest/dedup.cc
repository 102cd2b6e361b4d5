#include "services/kb/ingest/dedup.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "common/status_macros.h"
#include "services/kb/ingest/internal/unicode.h"
#include "services/kb/ingest/internal/words.h"

namespace hotline::kb::ingest {
namespace {

using ingest_internal::DecodeUtf8;
using ingest_internal::EncodeUtf8;
using ingest_internal::IsAlnum;

uint64_t Fnv1a64(absl::string_view data) {
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV offset basis
  for (char c : data) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001b3ULL;  // FNV prime
  }
  return hash;
}

// MurmurHash3's 64-bit finaliser: every input bit affects every output bit, which SimHash needs
// (it votes bit by bit) and FNV alone does not give in its high bits for short inputs.
uint64_t Mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// Days from `a` to `b` (YYYY-MM-DD); nullopt if either does not parse.
std::optional<int64_t> DaysBetween(const std::string& a, const std::string& b) {
  absl::CivilDay day_a;
  absl::CivilDay day_b;
  if (!absl::ParseCivilTime(a, &day_a) || !absl::ParseCivilTime(b, &day_b)) return std::nullopt;
  return day_b - day_a;
}

void EraseSlot(absl::flat_hash_map<std::string, std::vector<size_t>>* map, const std::string& key,
               size_t slot) {
  const auto it = map->find(key);
  if (it == map->end()) return;
  std::vector<size_t>& slots = it->second;
  slots.erase(std::remove(slots.begin(), slots.end(), slot), slots.end());
  if (slots.empty()) map->erase(it);
}

}  // namespace

uint64_t SimHash(const std::vector<std::string>& features) {
  std::array<int64_t, 64> votes{};
  for (const std::string& feature : features) {
    const uint64_t hash = Mix64(Fnv1a64(feature));
    for (int bit = 0; bit < 64; ++bit) votes[bit] += ((hash >> bit) & 1) != 0 ? 1 : -1;
  }
  uint64_t simhash = 0;
  for (int bit = 0; bit < 64; ++bit) {
    if (votes[bit] > 0) simhash |= uint64_t{1} << bit;
  }
  return simhash;
}

int HammingDistance(uint64_t a, uint64_t b) { return __builtin_popcountll(a ^ b); }

absl::string_view DedupVerdictName(DedupVerdict verdict) {
  switch (verdict) {
    case DedupVerdict::kNew:
      return "new";
    case DedupVerdict::kExactDuplicate:
      return "exact_duplicate";
    case DedupVerdict::kNearDuplicate:
      return "near_duplicate";
    case DedupVerdict::kNewerVersion:
      return "newer_version";
    case DedupVerdict::kOlderVersion:
      return "older_version";
  }
  return "unknown";
}

DedupIndex::DedupIndex(std::shared_ptr<const Analyzer> analyzer, DedupOptions options)
    : analyzer_(std::move(analyzer)), options_(options) {
  // Pigeonhole needs max_distance + 1 bands; 64 one-bit bands is as fine as it gets.
  const int bands = std::clamp(options_.max_distance + 1, 1, 64);
  for (int b = 0; b <= bands; ++b) band_begin_.push_back(64 * b / bands);
  bands_.resize(static_cast<size_t>(bands));
}

uint64_t DedupIndex::BandKey(uint64_t simhash, size_t band) const {
  const int begin = band_begin_[band];
  const int width = band_begin_[band + 1] - begin;
  const uint64_t mask = width >= 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
  return (simhash >> begin) & mask;
}

std::string DedupIndex::TitleKey(absl::string_view title) const {
  absl::StatusOr<std::string> normalized = analyzer_->normalizer().NormalizeToUtf8(title);
  if (!normalized.ok()) return "";
  absl::StatusOr<std::u32string> decoded = DecodeUtf8(*normalized);
  if (!decoded.ok()) return "";
  std::u32string s = *std::move(decoded);
  // 关于印发《长沙市住房公积金提取管理办法》的通知 names the document inside the guillemets.
  const size_t open = s.find(U'《');
  const size_t close = open == std::u32string::npos ? open : s.find(U'》', open + 1);
  if (close != std::u32string::npos && close > open + 1) s = s.substr(open + 1, close - open - 1);
  // Qualifiers that change between versions: (2023年修订), (试行), 暂行.
  std::u32string key;
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char32_t c = s[i];
    if (c == '(' || c == U'（') {
      ++depth;
    } else if ((c == ')' || c == U'）') && depth > 0) {
      --depth;
    } else if (depth == 0 && IsAlnum(c)) {
      key.push_back(c);
    }
  }
  for (std::u32string_view word : {std::u32string_view(U"暂行"), std::u32string_view(U"试行")}) {
    for (size_t pos = key.find(word); pos != std::u32string::npos; pos = key.find(word, pos)) {
      key.erase(pos, word.size());
    }
  }
  // Shorter names (通知, 公告) are shared by unrelated documents.
  if (key.size() < 4) return "";
  return EncodeUtf8(key);
}

std::string DedupIndex::Content(absl::string_view text) const {
  std::string content;
  content.reserve(text.size());
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::string_view stripped = absl::StripLeadingAsciiWhitespace(line);
    while (absl::ConsumePrefix(&stripped, "#")) {
    }
    stripped = absl::StripLeadingAsciiWhitespace(stripped);
    const bool ignored =
        std::any_of(options_.ignored_line_prefixes.begin(), options_.ignored_line_prefixes.end(),
                    [&](const std::string& prefix) { return absl::StartsWith(stripped, prefix); });
    if (ignored) continue;
    absl::StrAppend(&content, line, "\n");
  }
  return content;
}

absl::StatusOr<DocumentFingerprint> DedupIndex::Fingerprint(const DedupDocument& document) const {
  DocumentFingerprint fingerprint;
  const std::string content = Content(document.text);
  ASSIGN_OR_RETURN(const std::string normalized, analyzer_->normalizer().NormalizeToUtf8(content));
  ASSIGN_OR_RETURN(const std::u32string decoded, DecodeUtf8(normalized));
  std::u32string letters;
  letters.reserve(decoded.size());
  for (char32_t c : decoded) {
    if (IsAlnum(c)) letters.push_back(c);
  }
  fingerprint.content_hash = Sha256Hex(EncodeUtf8(letters));

  ASSIGN_OR_RETURN(const std::vector<ingest_internal::Word> words,
                   ingest_internal::SegmentWords(*analyzer_, content, /*sub_words=*/false));
  const size_t n = static_cast<size_t>(std::max(1, options_.shingle_words));
  std::vector<std::string> shingles;
  if (!words.empty()) {
    const size_t count = words.size() >= n ? words.size() - n + 1 : 1;
    shingles.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      std::string shingle;
      for (size_t j = i; j < std::min(words.size(), i + n); ++j) {
        absl::StrAppend(&shingle, words[j].text, "\x1f");  // a separator no word contains
      }
      shingles.push_back(std::move(shingle));
    }
  }
  fingerprint.simhash = SimHash(shingles);
  fingerprint.title_key = TitleKey(document.title);
  return fingerprint;
}

absl::StatusOr<DedupIndex::Record> DedupIndex::MakeRecord(const DedupDocument& document) const {
  if (document.id.empty()) return absl::InvalidArgumentError("document id is empty");
  Record record;
  record.id = document.id;
  record.sources.push_back(document.source);
  ASSIGN_OR_RETURN(record.fingerprint, Fingerprint(document));
  if (!document.doc_number.empty()) record.doc_number = ParseDocNumber(document.doc_number);
  record.publish_date = document.publish_date;
  return record;
}

int DedupIndex::VersionOrder(const Record& a, const Record& b, bool near) const {
  const bool both_numbers = a.doc_number.has_value() && b.doc_number.has_value();
  // Different issuers' series: the same name (住房公积金管理办法) in two cities is two documents.
  if (both_numbers && a.doc_number->prefix != b.doc_number->prefix) return 0;
  const bool same_number = both_numbers && *a.doc_number == *b.doc_number;
  const bool same_title =
      !a.fingerprint.title_key.empty() && a.fingerprint.title_key == b.fingerprint.title_key;
  if (!same_number && !same_title) return 0;

  int by_date = 0;
  int64_t days_apart = 0;
  if (const std::optional<int64_t> days = DaysBetween(b.publish_date, a.publish_date)) {
    by_date = *days > 0 ? 1 : (*days < 0 ? -1 : 0);
    days_apart = std::abs(*days);
  }
  int by_number = 0;
  if (both_numbers && !same_number) {
    const auto key = [](const DocNumber& number) {
      return std::make_tuple(number.year, number.serial);
    };
    by_number = key(*a.doc_number) > key(*b.doc_number) ? 1 : -1;
  }
  if (near && by_number == 0 && days_apart <= options_.republish_window_days) return 0;
  return by_date != 0 ? by_date : by_number;
}

DedupResult DedupIndex::CheckLocked(const Record& record) const {
  const uint64_t simhash = record.fingerprint.simhash;
  auto result_for = [&](DedupVerdict verdict, size_t slot) ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    DedupResult result;
    result.verdict = verdict;
    result.other_id = records_[slot].id;
    result.distance = HammingDistance(simhash, records_[slot].fingerprint.simhash);
    result.similarity = 1.0 - result.distance / 64.0;
    return result;
  };

  if (const auto it = by_hash_.find(record.fingerprint.content_hash); it != by_hash_.end()) {
    DedupResult result = result_for(DedupVerdict::kExactDuplicate, it->second.front());
    result.distance = 0;
    result.similarity = 1.0;
    return result;
  }

  // Near duplicates, nearest first; one that turns out to be an earlier or later version is left
  // to the version check below.
  absl::flat_hash_set<size_t> seen;
  std::vector<std::pair<int, size_t>> near;
  for (size_t band = 0; band < bands_.size(); ++band) {
    const auto it = bands_[band].find(BandKey(simhash, band));
    if (it == bands_[band].end()) continue;
    for (size_t slot : it->second) {
      if (!seen.insert(slot).second) continue;
      const int distance = HammingDistance(simhash, records_[slot].fingerprint.simhash);
      if (distance <= options_.max_distance) near.emplace_back(distance, slot);
    }
  }
  std::sort(near.begin(), near.end());
  absl::flat_hash_set<size_t> near_slots;
  for (const auto& [distance, slot] : near) {
    if (VersionOrder(record, records_[slot], /*near=*/true) == 0) {
      return result_for(DedupVerdict::kNearDuplicate, slot);
    }
    near_slots.insert(slot);
  }

  // Versions by name or number.
  std::vector<size_t> related;
  auto add_related = [&](const absl::flat_hash_map<std::string, std::vector<size_t>>& map,
                         const std::string& key) {
    if (key.empty()) return;
    const auto it = map.find(key);
    if (it == map.end()) return;
    for (size_t slot : it->second) {
      if (std::find(related.begin(), related.end(), slot) == related.end()) related.push_back(slot);
    }
  };
  add_related(by_title_, record.fingerprint.title_key);
  if (record.doc_number.has_value()) add_related(by_doc_number_, record.doc_number->Canonical());
  std::optional<size_t> newest_older;  // the newest version older than the document
  std::optional<size_t> newest_newer;  // the newest version newer than it
  auto keep_newest = [&](std::optional<size_t>* best, size_t slot) ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    if (!best->has_value() || VersionOrder(records_[slot], records_[**best], false) > 0) {
      *best = slot;
    }
  };
  for (size_t slot : related) {
    const int order = VersionOrder(record, records_[slot], near_slots.contains(slot));
    if (order > 0) keep_newest(&newest_older, slot);
    if (order < 0) keep_newest(&newest_newer, slot);
  }
  if (newest_newer.has_value()) return result_for(DedupVerdict::kOlderVersion, *newest_newer);
  if (newest_older.has_value()) return result_for(DedupVerdict::kNewerVersion, *newest_older);
  return DedupResult();
}

void DedupIndex::InsertLocked(Record record) {
  const size_t slot = records_.size();
  slot_by_id_[record.id] = slot;
  by_hash_[record.fingerprint.content_hash].push_back(slot);
  for (size_t band = 0; band < bands_.size(); ++band) {
    bands_[band][BandKey(record.fingerprint.simhash, band)].push_back(slot);
  }
  if (!record.fingerprint.title_key.empty())
    by_title_[record.fingerprint.title_key].push_back(slot);
  if (record.doc_number.has_value()) by_doc_number_[record.doc_number->Canonical()].push_back(slot);
  records_.push_back(std::move(record));
}

absl::StatusOr<DedupResult> DedupIndex::Check(const DedupDocument& document) const {
  ASSIGN_OR_RETURN(const Record record, MakeRecord(document));
  absl::ReaderMutexLock lock(&mu_);
  return CheckLocked(record);
}

absl::StatusOr<DedupResult> DedupIndex::Add(const DedupDocument& document) {
  ASSIGN_OR_RETURN(Record record, MakeRecord(document));
  absl::MutexLock lock(&mu_);
  if (slot_by_id_.contains(record.id)) {
    return absl::AlreadyExistsError(absl::StrCat("document '", record.id, "' is already indexed"));
  }
  DedupResult result = CheckLocked(record);
  if (result.verdict == DedupVerdict::kExactDuplicate ||
      result.verdict == DedupVerdict::kNearDuplicate) {
    std::vector<std::string>& sources = records_[slot_by_id_.at(result.other_id)].sources;
    if (std::find(sources.begin(), sources.end(), document.source) == sources.end()) {
      sources.push_back(document.source);
    }
  } else {
    InsertLocked(std::move(record));
  }
  return result;
}

absl::Status DedupIndex::Insert(const DedupDocument& document) {
  ASSIGN_OR_RETURN(Record record, MakeRecord(document));
  absl::MutexLock lock(&mu_);
  if (slot_by_id_.contains(record.id)) {
    return absl::AlreadyExistsError(absl::StrCat("document '", record.id, "' is already indexed"));
  }
  InsertLocked(std::move(record));
  return absl::OkStatus();
}

bool DedupIndex::Remove(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  const auto it = slot_by_id_.find(id);
  if (it == slot_by_id_.end()) return false;
  const size_t slot = it->second;
  slot_by_id_.erase(it);
  Record& record = records_[slot];
  EraseSlot(&by_hash_, record.fingerprint.content_hash, slot);
  for (size_t band = 0; band < bands_.size(); ++band) {
    const auto band_it = bands_[band].find(BandKey(record.fingerprint.simhash, band));
    if (band_it == bands_[band].end()) continue;
    std::vector<size_t>& slots = band_it->second;
    slots.erase(std::remove(slots.begin(), slots.end(), slot), slots.end());
    if (slots.empty()) bands_[band].erase(band_it);
  }
  EraseSlot(&by_title_, record.fingerprint.title_key, slot);
  if (record.doc_number.has_value()) {
    EraseSlot(&by_doc_number_, record.doc_number->Canonical(), slot);
  }
  // The record's text is not kept, so a removed slot costs only its fingerprints.
  record.sources.clear();
  return true;
}

std::vector<std::string> DedupIndex::Sources(absl::string_view id) const {
  absl::ReaderMutexLock lock(&mu_);
  const auto it = slot_by_id_.find(id);
  if (it == slot_by_id_.end()) return {};
  return records_[it->second].sources;
}

size_t DedupIndex::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return slot_by_id_.size();
}

}  // namespace hotline::kb::ingest
