#include "services/kb/citizen_feedback.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace hotline::kb {
namespace {

constexpr char kPrefix[] = "cf/";

}  // namespace

CitizenFeedback::CitizenFeedback(RocksStore* store, rocksdb::ColumnFamilyHandle* family,
                                 CitizenFeedbackLimits limits)
    : store_(store), family_(family), limits_(limits), per_address_(limits.per_address) {}

absl::Status CitizenFeedback::Load() {
  // Read into a map of its own (the scan's callback is not known to hold the lock), then
  // taken in at once.
  absl::flat_hash_map<std::string, v1::CitizenFeedbackCounts> loaded;
  absl::Status corrupt;
  RETURN_IF_ERROR(
      store_->ScanPrefix(family_, kPrefix, [&](absl::string_view key, absl::string_view value) {
        std::vector<absl::string_view> parts = absl::StrSplit(value, ' ');
        int64_t helpful = 0;
        int64_t not_helpful = 0;
        if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &helpful) ||
            !absl::SimpleAtoi(parts[1], &not_helpful)) {
          corrupt = absl::DataLossError(absl::StrCat("citizen feedback '", key, "' is corrupt"));
          return false;
        }
        v1::CitizenFeedbackCounts& counts = loaded[key.substr(sizeof kPrefix - 1)];
        counts.set_helpful(helpful);
        counts.set_not_helpful(not_helpful);
        return true;
      }));
  RETURN_IF_ERROR(corrupt);
  absl::MutexLock lock(&mu_);
  counts_ = std::move(loaded);
  return absl::OkStatus();
}

absl::StatusOr<bool> CitizenFeedback::Record(const std::string& entry_id, bool helpful,
                                             const std::string& address, absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (now >= next_forget_ || answered_.size() > limits_.max_remembered) Forget(now);
  if (!per_address_.Allow(address, now)) {
    return absl::ResourceExhaustedError(
        "client_address: too many answers from this address; try again within the hour");
  }
  auto [it, fresh] = answered_.emplace(absl::StrCat(address, "\n", entry_id), now);
  if (!fresh && now - it->second < limits_.repeat_window && now >= it->second) return false;
  it->second = now;
  v1::CitizenFeedbackCounts counts = counts_[entry_id];
  if (helpful) {
    counts.set_helpful(counts.helpful() + 1);
  } else {
    counts.set_not_helpful(counts.not_helpful() + 1);
  }
  // Written before it is shown: a count acknowledged to the citizen survives a crash.
  if (absl::Status written = store_->Put(family_, absl::StrCat(kPrefix, entry_id),
                                         absl::StrCat(counts.helpful(), " ", counts.not_helpful()));
      !written.ok()) {
    answered_.erase(it);  // Not counted: the citizen may press again.
    return written;
  }
  counts_[entry_id] = counts;
  return true;
}

v1::CitizenFeedbackCounts CitizenFeedback::Counts(const std::string& entry_id) const {
  absl::MutexLock lock(&mu_);
  auto it = counts_.find(entry_id);
  return it == counts_.end() ? v1::CitizenFeedbackCounts() : it->second;
}

void CitizenFeedback::Forget(absl::Time now) {
  absl::erase_if(answered_, [&](const auto& a) { return now - a.second >= limits_.repeat_window; });
  // Still too many (a crowd of addresses within the window): forget them all rather than
  // grow without end; the counts themselves are untouched.
  if (answered_.size() > limits_.max_remembered) answered_.clear();
  next_forget_ = now + absl::Minutes(5);
}

}  // namespace hotline::kb
