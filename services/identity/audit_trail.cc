#include "services/identity/audit_trail.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"

namespace hotline::identity {
namespace {

// Big-endian, so that key order is sequence order.
std::string KeyOf(int64_t sequence) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i) {
    key[i] = static_cast<char>(sequence & 0xff);
    sequence >>= 8;
  }
  return key;
}

int64_t SequenceOf(absl::string_view key) {
  int64_t sequence = 0;
  for (char c : key) sequence = (sequence << 8) | static_cast<unsigned char>(c);
  return sequence;
}

}  // namespace

absl::Status AuditTrail::Load() {
  std::unique_ptr<rocksdb::Iterator> it = store_->NewIterator(store_->Family(kAuditFamily));
  it->SeekToLast();
  absl::MutexLock lock(&mu_);
  last_sequence_ =
      it->Valid() ? SequenceOf(absl::string_view(it->key().data(), it->key().size())) : 0;
  return FromRocksStatus(it->status(), "reading the audit trail");
}

absl::StatusOr<int64_t> AuditTrail::Append(std::vector<v1::AuditEntry> entries) {
  absl::MutexLock lock(&mu_);
  rocksdb::WriteBatch batch;
  int64_t sequence = last_sequence_;
  for (v1::AuditEntry& entry : entries) {
    entry.set_sequence(++sequence);
    batch.Put(store_->Family(kAuditFamily), KeyOf(sequence), entry.SerializeAsString());
  }
  if (absl::Status s = store_->Write(&batch); !s.ok()) return s;
  last_sequence_ = sequence;
  return sequence;
}

absl::StatusOr<v1::ListAuditResponse> AuditTrail::List(const v1::ListAuditRequest& request,
                                                       int scan_limit) const {
  int page_size = request.page_size() <= 0 ? 100 : std::min(request.page_size(), 1000);
  absl::Time since = request.has_since() ? FromProtoTime(request.since()) : absl::InfinitePast();
  absl::Time until = request.has_until() ? FromProtoTime(request.until()) : absl::InfiniteFuture();
  v1::ListAuditResponse response;
  std::unique_ptr<rocksdb::Iterator> it = store_->NewIterator(store_->Family(kAuditFamily));
  if (request.before_sequence() > 0) {
    it->SeekForPrev(KeyOf(request.before_sequence() - 1));
  } else {
    it->SeekToLast();
  }
  int scanned = 0;
  for (; it->Valid(); it->Prev()) {
    if (++scanned > scan_limit || response.entries_size() == page_size) {
      response.set_next_before_sequence(
          SequenceOf(absl::string_view(it->key().data(), it->key().size())) + 1);
      break;
    }
    v1::AuditEntry entry;
    if (!entry.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat(
          "audit entry ", SequenceOf(absl::string_view(it->key().data(), it->key().size())),
          " cannot be read"));
    }
    absl::Time time = FromProtoTime(entry.time());
    if (time < since) break;  // Newest first: everything further back is older still.
    if (time >= until) continue;
    if (!request.principal().empty() && entry.principal() != request.principal()) continue;
    if (!request.ticket_id().empty() && entry.ticket_id() != request.ticket_id()) continue;
    if (!request.action().empty() && entry.action() != request.action()) continue;
    *response.add_entries() = std::move(entry);
  }
  if (absl::Status s = FromRocksStatus(it->status(), "reading the audit trail"); !s.ok()) {
    return s;
  }
  return response;
}

}  // namespace hotline::identity
