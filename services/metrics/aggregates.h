// The metrics service's state: per-ticket facts and per-day aggregates, durable in RocksDB and
// mirrored in memory for queries.
//
// Layout (see metrics_facts.proto for the facts):
//   aggregates  b/<day>/<department>\x1f<category>\x1f<channel> -> Counters of that day and group
//   facts       f/<ticket id>                -> TicketFact
//               t/<day>/<ticket id>          -> "" (the ticket has an item on that day)
//               l/<work order id>            -> LiveWorkOrder (work orders in the backlog)
//   meta        last_applied_sequence, last_event_time_us, calendar_version
//
// Every Apply() is one atomic WriteBatch holding the facts, the changed day rows, the indexes
// and the last applied sequence, so after a crash the state is that of some applied prefix of
// the stream, and re-applying an event at or below the sequence is a no-op. The memory mirror
// is updated only after the batch is durable, so no answer is based on figures that could be
// lost.
//
// A query for a calendar period sums whole-day rows (a month is at most 31 days of rows). An
// explicit range that cuts a day is completed exactly from the facts of the tickets that have
// items on that day (the t/ index), read at a snapshot matching the memory mirror.
#ifndef HOTLINE_SERVICES_METRICS_AGGREGATES_H_
#define HOTLINE_SERVICES_METRICS_AGGREGATES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/rocks_store.h"
#include "hotline/metrics/v1/metrics.pb.h"
#include "services/metrics/ticket_facts.h"

namespace hotline::metrics {

// Which work orders, cycles and callbacks a query counts, and how it splits them into rows.
struct Selection {
  std::vector<std::string> departments;  // Empty: every department.
  std::string category_prefix;           // Whole segments, no trailing '/'; empty: any.
  std::vector<int> channels;             // ticket.v1.Channel numbers; empty: any.
  v1::Dimension group_by = v1::DIMENSION_UNSPECIFIED;
  int category_depth = 1;  // For DIMENSION_CATEGORY: segments kept.
};

// Identifies a row: a department id or category path (`text`), or a channel number.
struct RowKey {
  std::string text;
  int channel = 0;
  bool operator<(const RowKey& o) const {
    return std::tie(channel, text) < std::tie(o.channel, o.text);
  }
  bool operator==(const RowKey& o) const { return channel == o.channel && text == o.text; }
};

// The counts of a window for one row or the totals. The window fields hold the items
// attributed to the window (open items only once their deadline has passed at `now`); the
// backlog fields hold the backlog at `as_of`.
struct WindowTally {
  Counters totals{};
  std::vector<std::pair<RowKey, Counters>> rows;  // In key order; rows with no count omitted.
  absl::Time as_of;
  int64_t sequence = 0;  // Last applied event sequence the counts reflect.
};

struct TimeWindow {
  absl::Time start;
  absl::Time end;
};

// A stored row of counters: each field that is not zero, by its id (figures.h). Decoding also
// reads the rows of the first format (every field by position); it fails on a malformed row
// and on an id this build does not know (a row of a newer build is not silently cut short).
std::string EncodeCounters(const Counters& counters);
bool DecodeCounters(absl::string_view stored, Counters* counters);

class Aggregates {
 public:
  static constexpr char kBuckets[] = "aggregates";
  static constexpr char kFacts[] = "facts";
  static constexpr char kMeta[] = "meta";
  static std::vector<std::string> Families();

  Aggregates(RocksStore* db, std::shared_ptr<const ticket::WorkingCalendar> calendar);
  ~Aggregates();

  // Reads the stored state into memory; call once before use.
  absl::Status Load();
  // Deletes every stored fact and aggregate (before a rebuild).
  absl::Status Clear();

  // Applies events in increasing global_sequence in one atomic write. Events at or below the
  // last applied sequence are skipped (redeliveries). A gap in the sequence, or an event that
  // does not fit the ticket's facts, fails with nothing applied and sets `*failed_index` to
  // the offending event, so the caller can apply the events before it and stop there.
  absl::Status Apply(const std::vector<tv1::TicketEvent>& events, size_t* failed_index = nullptr);

  int64_t last_applied_sequence() const;
  absl::Time last_applied_event_time() const;  // InfinitePast when none.
  const std::string& calendar_version() const;
  const ticket::WorkingCalendar& calendar() const { return *calendar_; }

  // Called after each Apply() that applied something, with the new sequence, outside locks.
  int AddApplyListener(std::function<void(int64_t)> listener);
  void RemoveApplyListener(int id);

  // The counts of each window (any number, any order) at `now`. DATA_LOSS when a stored fact
  // the windows need cannot be read, or the store's iterator fails: figures short of an item
  // are never reported as if complete.
  absl::StatusOr<std::vector<WindowTally>> Compute(const Selection& selection,
                                                   const std::vector<TimeWindow>& windows,
                                                   absl::Time now) const;

  // Open work orders with a yellow or red card (`levels`, ticket.v1 numbering), by deadline
  // then work order id, strictly after `after` when set; at most `limit` of them, and how many
  // match in all.
  struct OverduePage {
    std::vector<internal::LiveWorkOrder> items;
    int total = 0;
    bool more = false;
    int64_t sequence = 0;
  };
  OverduePage ListWarned(const Selection& selection, const std::vector<int>& levels,
                         const std::optional<std::pair<int64_t, std::string>>& after,
                         size_t limit) const;

  size_t bucket_rows() const;

 private:
  struct Group {
    std::string department;
    std::string category;
    int channel = 0;
  };
  struct LiveEntry {
    internal::LiveWorkOrder work_order;
    int group = 0;
  };
  // Rows of one query: which row each group falls in (-1: filtered out).
  struct Resolution {
    std::vector<int> row_of_group;
    std::vector<RowKey> rows;
  };
  using SnapshotPtr = std::shared_ptr<const rocksdb::Snapshot>;

  int InternLocked(const std::string& department, const std::string& category, int channel)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<int> FindGroupLocked(const std::string& department, const std::string& category,
                                     int channel) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  Resolution ResolveLocked(const Selection& selection) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  bool MatchesLocked(const Selection& selection, const Group& group) const;
  void InsertLiveLocked(const internal::LiveWorkOrder& work_order)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EraseLiveLocked(const std::string& work_order_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sets the day row of `group` to `value` (removing it when zero), in both day indexes.
  void SetRowLocked(int32_t day, int group, const Counters& value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Adds the items of the tickets with items on the day of [from, to) (same day) whose time
  // lies in it: backlog changes only, or everything but them (open items only before `now`).
  absl::Status AddFromFactsLocked(const Resolution& r, absl::Time from, absl::Time to,
                                  absl::Time now, bool backlog, std::vector<Counters>* rows) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::optional<internal::TicketFact>> ReadFact(const std::string& ticket_id,
                                                               const rocksdb::Snapshot* at) const;

  RocksStore* const db_;
  const std::shared_ptr<const ticket::WorkingCalendar> calendar_;
  rocksdb::ColumnFamilyHandle* const buckets_family_;
  rocksdb::ColumnFamilyHandle* const facts_family_;
  rocksdb::ColumnFamilyHandle* const meta_family_;

  // One Apply() at a time; queries run concurrently and see the state between two applies.
  absl::Mutex apply_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  int64_t last_applied_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_event_time_us_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<Group> groups_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> group_ids_ ABSL_GUARDED_BY(mu_);
  std::map<int32_t, absl::flat_hash_map<int, Counters>> buckets_ ABSL_GUARDED_BY(mu_);
  size_t bucket_rows_ ABSL_GUARDED_BY(mu_) = 0;
  // The backlog changes of the rows that have any, by day: the backlog at the end of a past
  // period sums the changes after it, and most rows after today only hold deadlines, so this
  // keeps that sum short.
  using BacklogChanges = std::array<int64_t, kBacklogFieldCount>;
  std::map<int32_t, absl::flat_hash_map<int, BacklogChanges>> backlog_changes_ ABSL_GUARDED_BY(mu_);
  // The backlog now per group: the sum of every backlog change ever applied.
  absl::flat_hash_map<int, Counters> current_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, LiveEntry> live_ ABSL_GUARDED_BY(mu_);
  using ByTime = std::set<std::pair<int64_t, std::string>>;
  ByTime open_by_deadline_ ABSL_GUARDED_BY(mu_);
  ByTime unsigned_by_sign_deadline_ ABSL_GUARDED_BY(mu_);
  ByTime warned_by_deadline_ ABSL_GUARDED_BY(mu_);
  SnapshotPtr snapshot_ ABSL_GUARDED_BY(mu_);

  absl::Mutex listeners_mu_;
  int next_listener_ ABSL_GUARDED_BY(listeners_mu_) = 0;
  std::vector<std::pair<int, std::function<void(int64_t)>>> listeners_
      ABSL_GUARDED_BY(listeners_mu_);
};

}  // namespace hotline::metrics

#endif  // HOTLINE_SERVICES_METRICS_AGGREGATES_H_
