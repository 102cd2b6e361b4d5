// Citizens' answers to "did this answer your question?" on the public portal, counted per
// entry and kept apart from agents' feedback: a citizen reading a page is not an agent
// confirming an answer on a call, so these counts never touch the ranking. Editors see them
// beside each entry.
//
// Anyone can press the buttons, so counting is limited: one answer per client address and
// entry in 24 hours counts (later ones are accepted and not counted), and an address has an
// allowance of answers (common/address_limiter.h). Both limits live in memory only; a restart
// forgets them, not the counts, which are written (synced) with every counted answer.
#ifndef HOTLINE_SERVICES_KB_CITIZEN_FEEDBACK_H_
#define HOTLINE_SERVICES_KB_CITIZEN_FEEDBACK_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/address_limiter.h"
#include "common/rocks_store.h"
#include "hotline/kb/v1/kb.pb.h"

namespace hotline::kb {

struct CitizenFeedbackLimits {
  absl::Duration repeat_window = absl::Hours(24);
  // 60 answers an hour: a bucket of 60, refilled at one a minute.
  RateLimit per_address{60.0 / 3600, 60};
  // Addresses remembered at most; beyond it the oldest memories go first.
  size_t max_remembered = 200000;
};

class CitizenFeedback {
 public:
  // Counts are kept in `family` under "cf/<entry id>".
  CitizenFeedback(RocksStore* store, rocksdb::ColumnFamilyHandle* family,
                  CitizenFeedbackLimits limits = {});

  // Reads the stored counts. Call once before Record.
  absl::Status Load();

  // Counts one answer. True when it counted, false when the address already answered on
  // this entry within the window; RESOURCE_EXHAUSTED when the address is over its hourly
  // allowance. The count is on disk when this returns true.
  absl::StatusOr<bool> Record(const std::string& entry_id, bool helpful, const std::string& address,
                              absl::Time now);

  v1::CitizenFeedbackCounts Counts(const std::string& entry_id) const;

 private:
  void Forget(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  RocksStore* store_;
  rocksdb::ColumnFamilyHandle* family_;
  const CitizenFeedbackLimits limits_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, v1::CitizenFeedbackCounts> counts_ ABSL_GUARDED_BY(mu_);
  // "address\nentry" -> when its answer counted.
  absl::flat_hash_map<std::string, absl::Time> answered_ ABSL_GUARDED_BY(mu_);
  AddressLimiter per_address_;
  absl::Time next_forget_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace hotline::kb

#endif  // HOTLINE_SERVICES_KB_CITIZEN_FEEDBACK_H_
