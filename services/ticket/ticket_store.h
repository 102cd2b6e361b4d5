// Durable storage of tickets, their events, indexes and the outbox, on RocksDB.
//
// Every transition is one atomic, synced WriteBatch holding the ticket, its new events, the
// index changes, the request-id record and the outbox entries. A single committer thread
// groups concurrent transitions into one batch (one fsync for many), and assigns global event
// sequences in commit order, so the event log has no gaps and readers that stop at
// committed_sequence() never miss an event that commits later.
#ifndef HOTLINE_SERVICES_TICKET_TICKET_STORE_H_
#define HOTLINE_SERVICES_TICKET_TICKET_STORE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/rocks_store.h"
#include "services/ticket/ticket_machine.h"

namespace hotline::ticket {

class TicketStore {
 public:
  static constexpr char kTickets[] = "tickets";  // ticket id -> Ticket; q/<id> -> last sequence
  static constexpr char kEvents[] = "events";    // e/<id>/<seq>, g/<gseq>, dg/<dept>/<gseq>
  static constexpr char kIndex[] = "index";      // listing indexes and request ids
  static constexpr char kOutbox[] = "outbox";    // <gseq> -> event, until published to Redis
  static constexpr char kMeta[] = "meta";        // counters
  static std::vector<std::string> Families();

  // Reads as of one moment: one RocksDB snapshot. A listing (ticket_listing.h) reads the index
  // and the tickets through one, so a ticket agrees with the key that named it; GetTicket reads
  // a ticket and its events through one. Takes no lock and never waits for a commit.
  struct ReadView {
    std::shared_ptr<const rocksdb::Snapshot> snapshot;
  };

  // Derives the alarm instant of an open work order (the next deadline warning).
  using AlarmFunction = std::function<absl::Time(const v1::WorkOrder&)>;

  TicketStore(RocksStore* db, AlarmFunction alarm);
  ~TicketStore();

  // Reads the counters back; call once before use.
  absl::Status Init();

  absl::StatusOr<std::optional<StoredTicket>> Load(const std::string& ticket_id) const;
  // As of `view` (NewReadView()): a commit is one atomic batch, so the ticket and its events
  // read through one view are those of one commit, with no lock and no wait for a commit.
  absl::StatusOr<std::optional<StoredTicket>> Load(const std::string& ticket_id,
                                                   const ReadView& view) const;

  // A fresh ticket id, e.g. "T20240509-000123" (the day in Asia/Shanghai, then a counter).
  std::string NewTicketId(absl::Time now);

  // Commits the changes atomically and durably; blocks until synced. `records` are extra
  // index-family puts (request ids). Assigns each event's global_sequence.
  absl::Status Commit(std::vector<TicketChange>* changes,
                      std::vector<std::pair<std::string, std::string>> records = {});

  // An index-family value (request-id records), or nullopt.
  absl::StatusOr<std::optional<std::string>> GetRecord(const std::string& key) const;

  // A key of the service's own named `name` (32 random bytes), made and written (synced) the
  // first time it is asked for and the same ever after.
  absl::StatusOr<std::string> Secret(const std::string& name);

  // Highest global sequence whose write is durable; everything at or below it is readable.
  int64_t committed_sequence() const;
  // Called (from the committer thread) after every commit with the new committed sequence.
  // Listeners must not block, nor add or remove listeners.
  int AddCommitListener(std::function<void(int64_t)> listener);
  // Once it returns, the listener is not running and will not be called again (it may be
  // destroyed): it waits for a call in progress to end.
  void RemoveCommitListener(int id);

  // Every ticket as stored, in id order, until `visit` returns false (start-up projections).
  absl::Status ScanTickets(const std::function<bool(const v1::Ticket&)>& visit) const;

  // Events of one ticket with sequence > after, in order, until `visit` returns false.
  absl::Status ScanTicketEvents(const std::string& ticket_id, int64_t after,
                                const std::function<bool(const v1::TicketEvent&)>& visit,
                                const ReadView* view = nullptr) const;
  // Events addressed to a department with after < global_sequence <= up_to, in order.
  absl::Status ScanDepartmentEvents(const std::string& department_id, int64_t after, int64_t up_to,
                                    size_t limit, std::vector<v1::TicketEvent>* out) const;
  // Every event with global_sequence > after, in order (for rebuilding projections).
  absl::Status ScanAllEvents(int64_t after,
                             const std::function<bool(const v1::TicketEvent&)>& visit) const;
  ReadView NewReadView() const;
  std::unique_ptr<rocksdb::Iterator> IndexIterator(const ReadView& view) const;
  absl::StatusOr<std::optional<v1::Ticket>> TicketAt(const ReadView& view,
                                                     const std::string& ticket_id) const;

  // Index keys under a prefix, in order, until `visit` returns false.
  absl::Status ScanIndex(const std::string& prefix,
                         const std::function<bool(absl::string_view key)>& visit) const;

  // The outbox: events committed but not yet confirmed published.
  absl::Status ReadOutbox(size_t limit, std::vector<v1::TicketEvent>* out) const;
  absl::Status DeleteFromOutbox(int64_t global_sequence_up_to_inclusive);
  // Drops a stale alarm key found by the warning scheduler.
  absl::Status DeleteIndexKey(const std::string& key);

  // Index keys a ticket should have; exposed for tests and the scheduler.
  std::set<std::string> IndexKeys(const v1::Ticket& ticket) const;

  static std::string Number(int64_t n);  // Fixed-width, so keys sort numerically.

 private:
  struct Pending {
    std::vector<TicketChange>* changes;
    std::vector<std::pair<std::string, std::string>> records;
    absl::Status result;
    bool done = false;
  };

  void CommitterLoop();
  // Writes the listing keys of every ticket again when the store holds another layout.
  absl::Status RebuildListingKeys();
  absl::Status WriteGroup(std::vector<Pending*>& group);

  RocksStore* db_;
  AlarmFunction alarm_;
  rocksdb::ColumnFamilyHandle* tickets_;
  rocksdb::ColumnFamilyHandle* events_;
  rocksdb::ColumnFamilyHandle* index_;
  rocksdb::ColumnFamilyHandle* outbox_;
  rocksdb::ColumnFamilyHandle* meta_;

  mutable absl::Mutex mu_;
  std::deque<Pending*> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t committed_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t ticket_counter_ ABSL_GUARDED_BY(mu_) = 0;
  // Held while listeners are called, so that removing one waits for its call to end; taken
  // before mu_ where both are held.
  absl::Mutex listeners_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  int next_listener_ ABSL_GUARDED_BY(listeners_mu_) = 0;
  std::vector<std::pair<int, std::function<void(int64_t)>>> listeners_
      ABSL_GUARDED_BY(listeners_mu_);
  std::thread committer_;
};

}  // namespace hotline::ticket

#endif  // HOTLINE_SERVICES_TICKET_TICKET_STORE_H_
