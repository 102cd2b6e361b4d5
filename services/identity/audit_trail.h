// The audit trail (审计日志): an append-only sequence of who saw or changed what, kept in
// its own column family. Entries are only ever appended, each synced before Append returns;
// there is no code path that rewrites or deletes one.
#ifndef HOTLINE_SERVICES_IDENTITY_AUDIT_TRAIL_H_
#define HOTLINE_SERVICES_IDENTITY_AUDIT_TRAIL_H_

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/rocks_store.h"
#include "hotline/identity/v1/identity.pb.h"

namespace hotline::identity {

inline constexpr char kAuditFamily[] = "audit";

class AuditTrail {
 public:
  explicit AuditTrail(RocksStore* store) : store_(store) {}

  // Reads where the trail ends. Call once before anything else.
  absl::Status Load();

  // Gives the entries their sequence numbers and appends them in one synced batch. Returns
  // the last sequence.
  absl::StatusOr<int64_t> Append(std::vector<v1::AuditEntry> entries);

  // Entries matching the request's filters, newest first. Scans at most `scan_limit`
  // entries per call; next_before_sequence continues where it stopped.
  absl::StatusOr<v1::ListAuditResponse> List(const v1::ListAuditRequest& request,
                                             int scan_limit = 200000) const;

 private:
  RocksStore* const store_;
  absl::Mutex mu_;  // Serialises appends, so that sequences have no gaps.
  int64_t last_sequence_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace hotline::identity

#endif  // HOTLINE_SERVICES_IDENTITY_AUDIT_TRAIL_H_
