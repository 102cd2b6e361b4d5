// De-duplication, the third step of ingestion. The same policy reaches the knowledge base from
// several sources (the regulatory-document system, the government website, a department's own
// database), re-typed, re-wrapped, with full-width digits or another source line, and later in
// amended versions. A caller must get one entry per document, with every source behind it, and
// only the version in force. Three relations are recognised:
//   - exact duplicate: the same letters and digits after normalisation (NFKC, case, traditional to
//     simplified), by SHA-256, whatever the whitespace, punctuation width or line breaks, and
//     leaving out the lines that attribute a copy to its source (来源：..., 发布时间：...);
//   - near duplicate: a 64-bit SimHash over word shingles within a Hamming distance (default 3),
//     found through a band index (the fingerprint cut into max_distance + 1 bands: two
//     fingerprints that close agree exactly on at least one band, by pigeonhole), so a new
//     document is compared with a few candidates, not with every document;
//   - versions: the same document name (title without 关于印发《》的通知 wrappers, (修订)/(试行)
//     qualifiers, 暂行/试行) or the same document number, with a later publish date (or, without
//     dates, a later number of the same issuer): the newer supersedes the older.
#ifndef HOTLINE_SERVICES_KB_INGEST_DEDUP_H_
#define HOTLINE_SERVICES_KB_INGEST_DEDUP_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/sha256.h"
#include "services/kb/ingest/metadata.h"
#include "services/kb/text/analyzer.h"

namespace hotline::kb::ingest {

// 64-bit SimHash of weighted features: bit b is set when the features whose hash has bit b set
// outweigh those whose hash has it clear. Feature hashes are stable across runs and platforms
// (FNV-1a, then a 64-bit finaliser to spread FNV's weak low bits), so fingerprints may be stored.
uint64_t SimHash(const std::vector<std::string>& features);

int HammingDistance(uint64_t a, uint64_t b);

struct DedupOptions {
  // Near duplicates differ in at most this many of the 64 SimHash bits. The band index has
  // max_distance + 1 bands, so larger values mean narrower bands and more candidates to check.
  int max_distance = 3;
  // Words per shingle. Shingles rather than single words make the fingerprint sensitive to word
  // order, so two different notices built from the same vocabulary do not collide.
  int shingle_words = 3;
  // Two near-identical texts with the same name published further apart than this are versions
  // (an amendment changing a few figures), closer together a re-publication of one text.
  int republish_window_days = 90;
  // Lines starting with these (after any '#') are left out of both fingerprints: they attribute
  // the copy ("来源：XX网站", "发布时间：..."), so they differ between sources of one document.
  std::vector<std::string> ignored_line_prefixes = {
      "来源：",   "来源:",    "信息来源", "文章来源", "作者：", "发布时间", "发布日期",
      "发布机构", "责任编辑", "浏览次数", "阅读次数", "访问量", "点击数",   "索引号"};
};

// What de-duplication needs of a document (after cleaning and metadata extraction).
struct DedupDocument {
  std::string id;
  std::string source;
  std::string text;  // cleaned text (cleaner.h)
  std::string title;
  std::string doc_number;    // canonical (metadata.h) or empty
  std::string publish_date;  // YYYY-MM-DD or empty
};

enum class DedupVerdict {
  kNew,
  kExactDuplicate,  // of other_id
  kNearDuplicate,   // of other_id
  kNewerVersion,    // supersedes other_id, the newest version known so far
  kOlderVersion,    // superseded by other_id, the newest version known so far
};

// "new", "exact_duplicate", "near_duplicate", "newer_version", "older_version".
absl::string_view DedupVerdictName(DedupVerdict verdict);

struct DedupResult {
  DedupVerdict verdict = DedupVerdict::kNew;
  std::string other_id;   // empty for kNew
  int distance = 0;       // SimHash distance to other_id
  double similarity = 0;  // 1 - distance / 64: 1 for an exact duplicate
};

// The fingerprints of one document.
struct DocumentFingerprint {
  // Sha256Hex of the letters and digits of the normalised text, attribution lines left out.
  std::string content_hash;
  uint64_t simhash = 0;
  std::string title_key;  // the document name as versions share it; may be empty
};

// Thread-safe: lookups run concurrently, Add/Insert/Remove exclude them briefly. Fingerprinting
// (the analysis) happens outside the lock.
class DedupIndex {
 public:
  explicit DedupIndex(std::shared_ptr<const Analyzer> analyzer, DedupOptions options = {});

  absl::StatusOr<DocumentFingerprint> Fingerprint(const DedupDocument& document) const;
  // The title key alone (see the file comment), normalised; empty when nothing is left.
  std::string TitleKey(absl::string_view title) const;

  // How `document` relates to the documents in the index, without changing it. Checked in order:
  // an exact duplicate, then the nearest near duplicate (unless it is a version, see DedupOptions
  // and the file comment), then versions by name or number. Errors: InvalidArgumentError for
  // invalid UTF-8 or an empty id.
  absl::StatusOr<DedupResult> Check(const DedupDocument& document) const;

  // Check(), then: a duplicate is not added, its source is added to the original's sources; any
  // other document is added. AlreadyExistsError if the id is in the index.
  absl::StatusOr<DedupResult> Add(const DedupDocument& document);

  // Adds `document` whatever it duplicates (rebuilding the index from a store). AlreadyExistsError
  // if the id is in the index.
  absl::Status Insert(const DedupDocument& document);

  // Forgets a document; false if the id was not there.
  bool Remove(absl::string_view id);

  // The sources of an entry: its own first, then those of the duplicates merged into it.
  std::vector<std::string> Sources(absl::string_view id) const;
  size_t size() const;

 private:
  struct Record {
    std::string id;
    std::vector<std::string> sources;
    DocumentFingerprint fingerprint;
    std::optional<DocNumber> doc_number;
    std::string publish_date;
  };

  // `text` without the ignored lines.
  std::string Content(absl::string_view text) const;
  // Band b of a fingerprint: bits [band_begin_[b], band_begin_[b + 1]).
  uint64_t BandKey(uint64_t simhash, size_t band) const;
  // > 0 if `a` is a later version than `b`, < 0 if earlier, 0 if unrelated or undecidable.
  // `near`: their texts are near duplicates, so only a clear sign makes them versions.
  int VersionOrder(const Record& a, const Record& b, bool near) const;
  DedupResult CheckLocked(const Record& record) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void InsertLocked(Record record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<Record> MakeRecord(const DedupDocument& document) const;

  const std::shared_ptr<const Analyzer> analyzer_;
  const DedupOptions options_;
  std::vector<int> band_begin_;  // max_distance + 2 entries, the last 64

  mutable absl::Mutex mu_;
  std::vector<Record> records_ ABSL_GUARDED_BY(mu_);  // by slot; removed ones stay, unreferenced
  absl::flat_hash_map<std::string, size_t> slot_by_id_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::vector<size_t>> by_hash_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::flat_hash_map<uint64_t, std::vector<size_t>>> bands_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::vector<size_t>> by_title_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::vector<size_t>> by_doc_number_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hotline::kb::ingest

#endif  // HOTLINE_SERVICES_KB_INGEST_DEDUP_H_
