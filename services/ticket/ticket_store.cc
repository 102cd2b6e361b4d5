#include "services/ticket/ticket_store.h"

#include <glog/logging.h>
#include <sodium.h>

#include <algorithm>
#include <iterator>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "services/ticket/ticket_listing.h"

namespace hotline::ticket {
namespace {

constexpr char kCounterKey[] = "ticket_counter";
constexpr char kListingLayoutKey[] = "listing_layout";
// The listing keys of the first layout (before "l/"), dropped by the rebuild.
constexpr const char* kLayout1Prefixes[] = {"s/", "ct/", "c/", "p/", "d/", "dl/"};

int64_t Micros(const google::protobuf::Timestamp& t) {
  return absl::ToUnixMicros(FromProtoTime(t));
}

std::string EventKey(const std::string& ticket_id, int64_t sequence) {
  return absl::StrCat("e/", ticket_id, "/", TicketStore::Number(sequence));
}

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("corrupt record in the ticket store: ", what));
}

// The first sequence after a cursor a client sent: saturating, since a cursor (or a forged
// page token) may hold any int64, and negative ones mean "from the start".
int64_t SequenceAfter(int64_t after) {
  if (after == std::numeric_limits<int64_t>::max()) return after;
  return std::max<int64_t>(after, 0) + 1;
}

}  // namespace

std::string TicketStore::Number(int64_t n) { return absl::StrFormat("%020d", n); }

std::vector<std::string> TicketStore::Families() {
  return {kTickets, kEvents, kIndex, kOutbox, kMeta};
}

TicketStore::TicketStore(RocksStore* db, AlarmFunction alarm)
    : db_(db),
      alarm_(std::move(alarm)),
      tickets_(db->Family(kTickets)),
      events_(db->Family(kEvents)),
      index_(db->Family(kIndex)),
      outbox_(db->Family(kOutbox)),
      meta_(db->Family(kMeta)) {}

TicketStore::~TicketStore() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (committer_.joinable()) committer_.join();
}

absl::Status TicketStore::Init() {
  ASSIGN_OR_RETURN(std::optional<std::string> counter, db_->Get(meta_, kCounterKey));
  int64_t tickets = 0;
  if (counter.has_value() && !absl::SimpleAtoi(*counter, &tickets)) return Corrupt(kCounterKey);
  // The last global sequence is the last key of the event log.
  int64_t last = 0;
  std::unique_ptr<rocksdb::Iterator> it = db_->NewIterator(events_);
  it->SeekForPrev("g/\xff");
  if (it->Valid() && it->key().starts_with("g/")) {
    if (!absl::SimpleAtoi(absl::string_view(it->key().data() + 2, it->key().size() - 2), &last)) {
      return Corrupt("event log key");
    }
  }
  RETURN_IF_ERROR(FromRocksStatus(it->status(), "reading the event log"));
  ASSIGN_OR_RETURN(std::optional<std::string> layout, db_->Get(meta_, kListingLayoutKey));
  if (layout.value_or("") != kListingLayout) RETURN_IF_ERROR(RebuildListingKeys());
  {
    absl::MutexLock lock(&mu_);
    ticket_counter_ = tickets;
    committed_ = last;
  }
  committer_ = std::thread([this] { CommitterLoop(); });
  LOG(INFO) << "ticket store: " << tickets << " tickets created, last event " << last;
  return absl::OkStatus();
}

absl::Status TicketStore::RebuildListingKeys() {
  // Before the committer starts: nothing else writes. Each batch is synced, and the layout is
  // recorded last, so a crash part-way through rebuilds again on the next start.
  // Key by key, not DeleteRange: range tombstones in the index, which every listing reads
  // through a snapshot, tripped an assertion of Debian's RocksDB in a test.
  rocksdb::WriteBatch batch;
  absl::Status written = absl::OkStatus();
  std::vector<std::string> prefixes(std::begin(kLayout1Prefixes), std::end(kLayout1Prefixes));
  prefixes.push_back(kListingKeyPrefix);
  for (const std::string& prefix : prefixes) {
    RETURN_IF_ERROR(ScanIndex(prefix, [&](absl::string_view key) {
      batch.Delete(index_, rocksdb::Slice(key.data(), key.size()));
      if (batch.Count() >= 100000) {
        written = db_->Write(&batch);
        batch.Clear();
      }
      return written.ok();
    }));
    RETURN_IF_ERROR(written);
  }
  int64_t tickets = 0;
  RETURN_IF_ERROR(ScanTickets([&](const v1::Ticket& t) {
    for (const std::string& key : ListingKeys(t)) batch.Put(index_, key, "");
    if (++tickets % 10000 == 0) {
      written = db_->Write(&batch);
      batch.Clear();
    }
    return written.ok();
  }));
  RETURN_IF_ERROR(written);
  batch.Put(meta_, kListingLayoutKey, kListingLayout);
  RETURN_IF_ERROR(db_->Write(&batch));
  LOG(INFO) << "ticket store: listing keys of layout " << kListingLayout << " written for "
            << tickets << " tickets";
  return absl::OkStatus();
}

TicketStore::ReadView TicketStore::NewReadView() const { return ReadView{db_->Snapshot()}; }

std::unique_ptr<rocksdb::Iterator> TicketStore::IndexIterator(const ReadView& view) const {
  return db_->NewIterator(index_, view.snapshot.get());
}

absl::StatusOr<std::optional<v1::Ticket>> TicketStore::TicketAt(const ReadView& view,
                                                                const std::string& id) const {
  ASSIGN_OR_RETURN(std::optional<std::string> value, db_->Get(tickets_, id, view.snapshot.get()));
  if (!value.has_value()) return std::optional<v1::Ticket>();
  v1::Ticket ticket;
  if (!ticket.ParseFromString(*value)) return Corrupt(id);
  return std::optional<v1::Ticket>(std::move(ticket));
}

std::string TicketStore::NewTicketId(absl::Time now) {
  int64_t n;
  {
    absl::MutexLock lock(&mu_);
    n = ++ticket_counter_;
  }
  return absl::StrCat("T", absl::FormatTime("%Y%m%d", now, ShanghaiTimeZone()), "-",
                      absl::StrFormat("%06d", n));
}

absl::StatusOr<std::optional<StoredTicket>> TicketStore::Load(const std::string& id) const {
  // Writers call it under the ticket's stripe lock: no snapshot needed (nor its cost).
  return Load(id, ReadView{});
}

absl::StatusOr<std::optional<StoredTicket>> TicketStore::Load(const std::string& id,
                                                              const ReadView& view) const {
  const rocksdb::Snapshot* snapshot = view.snapshot.get();
  ASSIGN_OR_RETURN(std::optional<std::string> value, db_->Get(tickets_, id, snapshot));
  if (!value.has_value()) return std::optional<StoredTicket>();
  StoredTicket stored;
  if (!stored.ticket.ParseFromString(*value)) return Corrupt(id);
  ASSIGN_OR_RETURN(std::optional<std::string> sequence, db_->Get(tickets_, "q/" + id, snapshot));
  if (!sequence.has_value() || !absl::SimpleAtoi(*sequence, &stored.last_sequence)) {
    return Corrupt("q/" + id);
  }
  return std::optional<StoredTicket>(std::move(stored));
}

absl::Status TicketStore::ScanTickets(const std::function<bool(const v1::Ticket&)>& visit) const {
  // Ticket ids start with "T"; the family's other keys ("q/<id>") do not.
  absl::Status corrupt;
  RETURN_IF_ERROR(
      db_->ScanPrefix(tickets_, "T", [&](absl::string_view key, absl::string_view value) {
        v1::Ticket ticket;
        if (!ticket.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          corrupt = Corrupt(std::string(key));
          return false;
        }
        return visit(ticket);
      }));
  return corrupt;
}

absl::StatusOr<std::optional<std::string>> TicketStore::GetRecord(const std::string& key) const {
  return db_->Get(index_, key);
}

absl::StatusOr<std::string> TicketStore::Secret(const std::string& name) {
  const std::string key = "secret/" + name;
  ASSIGN_OR_RETURN(std::optional<std::string> stored, db_->Get(meta_, key));
  if (stored.has_value()) {
    if (stored->size() != 32) return Corrupt(key);
    return *stored;
  }
  if (sodium_init() < 0) return absl::InternalError("libsodium cannot start");
  std::string secret(32, '\0');
  randombytes_buf(secret.data(), secret.size());
  RETURN_IF_ERROR(db_->Put(meta_, key, secret));
  return secret;
}

int64_t TicketStore::committed_sequence() const {
  absl::MutexLock lock(&mu_);
  return committed_;
}

int TicketStore::AddCommitListener(std::function<void(int64_t)> listener) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.emplace_back(++next_listener_, std::move(listener));
  return next_listener_;
}

void TicketStore::RemoveCommitListener(int id) {
  absl::MutexLock lock(&listeners_mu_);
  for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
    if (it->first == id) {
      listeners_.erase(it);
      return;
    }
  }
}

std::set<std::string> TicketStore::IndexKeys(const v1::Ticket& t) const {
  std::set<std::string> keys;
  const std::string& id = t.id();
  for (std::string& k : ListingKeys(t)) keys.insert(std::move(k));
  for (const v1::WorkOrder& w : t.work_orders()) {
    if (!IsOpen(w)) continue;
    keys.insert(absl::StrCat("o/", Number(Micros(w.deadline())), "/", id, "/", w.id()));
    absl::Time alarm = alarm_(w);
    if (alarm != absl::InfiniteFuture()) {
      keys.insert(absl::StrCat("a/", Number(absl::ToUnixMicros(alarm)), "/", id, "/", w.id()));
    }
  }
  return keys;
}

absl::Status TicketStore::Commit(std::vector<TicketChange>* changes,
                                 std::vector<std::pair<std::string, std::string>> records) {
  Pending pending{changes, std::move(records), absl::OkStatus(), false};
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("the ticket store is shutting down");
  queue_.push_back(&pending);
  mu_.Await(absl::Condition(&pending.done));
  return pending.result;
}

void TicketStore::CommitterLoop() {
  while (true) {
    std::vector<Pending*> group;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](TicketStore* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->stopping_ || !self->queue_.empty();
          },
          this));
      if (queue_.empty()) return;
      // Everything queued while the last fsync ran goes into one batch.
      while (!queue_.empty() && group.size() < 512) {
        group.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    absl::Status status = WriteGroup(group);
    int64_t committed;
    {
      absl::MutexLock lock(&mu_);
      for (Pending* p : group) {
        p->result = status;
        p->done = true;
      }
      committed = committed_;
    }
    if (status.ok()) {
      // Under listeners_mu_ (not mu_: the writers just woken need it), so that a listener
      // being removed is either called to the end or not at all.
      absl::MutexLock lock(&listeners_mu_);
      for (auto& [id, listener] : listeners_) listener(committed);
    }
  }
}

absl::Status TicketStore::WriteGroup(std::vector<Pending*>& group) {
  int64_t next;
  int64_t counter;
  {
    absl::MutexLock lock(&mu_);
    next = committed_;
    counter = ticket_counter_;
  }
  rocksdb::WriteBatch batch;
  for (Pending* p : group) {
    for (TicketChange& change : *p->changes) {
      const v1::Ticket& after = change.after;
      const std::string& id = after.id();
      for (v1::TicketEvent& e : change.events) {
        e.set_global_sequence(++next);
        std::string bytes = e.SerializeAsString();
        std::string global = Number(e.global_sequence());
        batch.Put(events_, EventKey(id, e.sequence()), bytes);
        batch.Put(events_, "g/" + global, bytes);
        for (const std::string& d : e.department_ids()) {
          batch.Put(events_, absl::StrCat("dg/", d, "/", global), "");
        }
        batch.Put(outbox_, global, bytes);
      }
      if (!change.events.empty()) {
        batch.Put(tickets_, "q/" + id, absl::StrCat(change.events.back().sequence()));
      }
      batch.Put(tickets_, id, after.SerializeAsString());
      std::set<std::string> old_keys;
      if (!change.before.id().empty()) old_keys = IndexKeys(change.before);
      std::set<std::string> new_keys = IndexKeys(after);
      for (const std::string& k : old_keys) {
        if (!new_keys.count(k)) batch.Delete(index_, k);
      }
      for (const std::string& k : new_keys) {
        if (!old_keys.count(k)) batch.Put(index_, k, "");
      }
    }
    for (const auto& [key, value] : p->records) batch.Put(index_, key, value);
  }
  batch.Put(meta_, kCounterKey, absl::StrCat(counter));
  absl::Status status = db_->Write(&batch);
  if (status.ok()) {
    absl::MutexLock lock(&mu_);
    committed_ = next;
  } else {
    LOG(ERROR) << "commit of " << group.size() << " transitions failed: " << status;
    // Sequences were not consumed: committed_ is unchanged, so the log stays gapless.
    for (Pending* p : group) {
      for (TicketChange& change : *p->changes) {
        for (v1::TicketEvent& e : change.events) e.clear_global_sequence();
      }
    }
  }
  return status;
}

absl::Status TicketStore::ScanTicketEvents(const std::string& ticket_id, int64_t after,
                                           const std::function<bool(const v1::TicketEvent&)>& visit,
                                           const ReadView* view) const {
  std::string prefix = absl::StrCat("e/", ticket_id, "/");
  std::unique_ptr<rocksdb::Iterator> it =
      db_->NewIterator(events_, view != nullptr ? view->snapshot.get() : nullptr);
  for (it->Seek(EventKey(ticket_id, SequenceAfter(after)));
       it->Valid() && it->key().starts_with(prefix); it->Next()) {
    v1::TicketEvent e;
    if (!e.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Corrupt(it->key().ToString());
    }
    if (!visit(e)) break;
  }
  return FromRocksStatus(it->status(), "reading ticket events");
}

absl::Status TicketStore::ScanDepartmentEvents(const std::string& department_id, int64_t after,
                                               int64_t up_to, size_t limit,
                                               std::vector<v1::TicketEvent>* out) const {
  std::string prefix = absl::StrCat("dg/", department_id, "/");
  std::unique_ptr<rocksdb::Iterator> it = db_->NewIterator(events_);
  for (it->Seek(prefix + Number(SequenceAfter(after)));
       it->Valid() && it->key().starts_with(prefix) && out->size() < limit; it->Next()) {
    absl::string_view key(it->key().data(), it->key().size());
    int64_t sequence = 0;
    if (!absl::SimpleAtoi(key.substr(prefix.size()), &sequence)) return Corrupt(key);
    if (sequence > up_to) break;
    ASSIGN_OR_RETURN(std::optional<std::string> bytes, db_->Get(events_, "g/" + Number(sequence)));
    if (!bytes.has_value() || !out->emplace_back().ParseFromString(*bytes)) return Corrupt(key);
  }
  return FromRocksStatus(it->status(), "reading department events");
}

absl::Status TicketStore::ScanAllEvents(
    int64_t after, const std::function<bool(const v1::TicketEvent&)>& visit) const {
  std::unique_ptr<rocksdb::Iterator> it = db_->NewIterator(events_);
  for (it->Seek("g/" + Number(SequenceAfter(after))); it->Valid() && it->key().starts_with("g/");
       it->Next()) {
    v1::TicketEvent e;
    if (!e.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Corrupt(it->key().ToString());
    }
    if (!visit(e)) break;
  }
  return FromRocksStatus(it->status(), "reading the event log");
}

absl::Status TicketStore::ScanIndex(const std::string& prefix,
                                    const std::function<bool(absl::string_view)>& visit) const {
  return db_->ScanPrefix(index_, prefix,
                         [&](absl::string_view key, absl::string_view) { return visit(key); });
}

absl::Status TicketStore::ReadOutbox(size_t limit, std::vector<v1::TicketEvent>* out) const {
  std::unique_ptr<rocksdb::Iterator> it = db_->NewIterator(outbox_);
  for (it->SeekToFirst(); it->Valid() && out->size() < limit; it->Next()) {
    if (!out->emplace_back().ParseFromArray(it->value().data(),
                                            static_cast<int>(it->value().size()))) {
      return Corrupt("outbox entry");
    }
  }
  return FromRocksStatus(it->status(), "reading the outbox");
}

absl::Status TicketStore::DeleteFromOutbox(int64_t up_to) {
  rocksdb::WriteBatch batch;
  batch.DeleteRange(outbox_, Number(0), Number(up_to + 1));
  return db_->WriteUnsynced(&batch);
}

absl::Status TicketStore::DeleteIndexKey(const std::string& key) {
  rocksdb::WriteBatch batch;
  batch.Delete(index_, key);
  return db_->WriteUnsynced(&batch);  // A stale alarm that comes back is dropped again.
}

}  // namespace hotline::ticket
