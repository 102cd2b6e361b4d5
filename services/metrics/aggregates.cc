#include "services/metrics/aggregates.h"

#include <glog/logging.h>

#include <algorithm>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "services/metrics/periods.h"

namespace hotline::metrics {
namespace {

constexpr char kLastApplied[] = "last_applied_sequence";
constexpr char kLastEventTime[] = "last_event_time_us";
constexpr char kCalendarVersion[] = "calendar_version";
constexpr char kSeparator = '\x1f';  // Never part of a department id or a category path.

std::string DayKey(int32_t day) { return absl::StrFormat("%08d", day); }
std::string GroupKey(absl::string_view department, absl::string_view category, int channel) {
  return absl::StrCat(department, std::string(1, kSeparator), category, std::string(1, kSeparator),
                      channel);
}
std::string BucketKey(int32_t day, absl::string_view group) {
  return absl::StrCat("b/", DayKey(day), "/", group);
}
std::string FactKey(absl::string_view ticket) { return absl::StrCat("f/", ticket); }
std::string TouchPrefix(int32_t day) { return absl::StrCat("t/", DayKey(day), "/"); }
std::string LiveKey(absl::string_view work_order) { return absl::StrCat("l/", work_order); }

// Counters are stored as a version byte, then (field id, value) pairs of varints for the
// fields that are not zero (the value zigzag-encoded). Rows written before ids were stored
// (version 1) hold every field by position, from id 0 up; those positions are the ids.
constexpr char kCountersById = '\x02';
constexpr char kCountersByPosition = '\x01';

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(absl::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift <= 63; shift += 7) {
    if (in->empty()) return false;
    const uint8_t byte = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t z) { return static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1); }

}  // namespace

std::string EncodeCounters(const Counters& c) {
  std::string out(1, kCountersById);
  for (int f = 0; f < kFieldCount; ++f) {
    if (c[f] == 0) continue;
    PutVarint(static_cast<uint64_t>(f), &out);
    PutVarint(ZigZag(c[f]), &out);
  }
  return out;
}

bool DecodeCounters(absl::string_view in, Counters* c) {
  c->fill(0);
  if (in.empty()) return false;
  const char version = in[0];
  in.remove_prefix(1);
  uint64_t v = 0;
  if (version == kCountersByPosition) {
    for (int f = 0; f < kFieldCount && !in.empty(); ++f) {
      if (!GetVarint(&in, &v)) return false;
      (*c)[f] = UnZigZag(v);
    }
    return in.empty();  // More fields than this build knows: written by a newer one.
  }
  if (version != kCountersById) return false;
  while (!in.empty()) {
    uint64_t field = 0;
    if (!GetVarint(&in, &field) || !GetVarint(&in, &v)) return false;
    // An id this build does not know was written by a newer one: refuse rather than drop it.
    if (field >= static_cast<uint64_t>(kFieldCount)) return false;
    (*c)[field] = UnZigZag(v);
  }
  return true;
}

namespace {

bool IsZero(const Counters& c) {
  return std::all_of(c.begin(), c.end(), [](int64_t v) { return v == 0; });
}

void AddBacklog(const Counters& from, Counters* to, int sign = 1) {
  for (Field f : kBacklogFields) (*to)[f] += sign * from[f];
}

std::string TruncateCategory(const std::string& category, int depth) {
  if (category.empty()) return category;
  std::vector<absl::string_view> segments = absl::StrSplit(category, '/');
  if (static_cast<int>(segments.size()) <= depth) return category;
  segments.resize(depth);
  return absl::StrJoin(segments, "/");
}

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("corrupt record in the metrics store: ", what));
}

}  // namespace

std::vector<std::string> Aggregates::Families() { return {kBuckets, kFacts, kMeta}; }

Aggregates::Aggregates(RocksStore* db, std::shared_ptr<const ticket::WorkingCalendar> calendar)
    : db_(db),
      calendar_(std::move(calendar)),
      buckets_family_(db->Family(kBuckets)),
      facts_family_(db->Family(kFacts)),
      meta_family_(db->Family(kMeta)) {}

Aggregates::~Aggregates() {
  absl::MutexLock lock(&mu_);
  snapshot_.reset();  // Before the database goes.
}

const std::string& Aggregates::calendar_version() const { return calendar_->version(); }

int64_t Aggregates::last_applied_sequence() const {
  absl::ReaderMutexLock lock(&mu_);
  return last_applied_;
}

absl::Time Aggregates::last_applied_event_time() const {
  absl::ReaderMutexLock lock(&mu_);
  return last_applied_ == 0 ? absl::InfinitePast() : absl::FromUnixMicros(last_event_time_us_);
}

size_t Aggregates::bucket_rows() const {
  absl::ReaderMutexLock lock(&mu_);
  return bucket_rows_;
}

int Aggregates::AddApplyListener(std::function<void(int64_t)> listener) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.emplace_back(++next_listener_, std::move(listener));
  return next_listener_;
}

void Aggregates::RemoveApplyListener(int id) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.erase(std::remove_if(listeners_.begin(), listeners_.end(),
                                  [id](const auto& l) { return l.first == id; }),
                   listeners_.end());
}

int Aggregates::InternLocked(const std::string& department, const std::string& category,
                             int channel) {
  auto [it, inserted] =
      group_ids_.try_emplace(GroupKey(department, category, channel), groups_.size());
  if (inserted) groups_.push_back(Group{department, category, channel});
  return it->second;
}

std::optional<int> Aggregates::FindGroupLocked(const std::string& department,
                                               const std::string& category, int channel) const {
  auto it = group_ids_.find(GroupKey(department, category, channel));
  if (it == group_ids_.end()) return std::nullopt;
  return it->second;
}

void Aggregates::InsertLiveLocked(const internal::LiveWorkOrder& l) {
  int group = InternLocked(l.department_id(), l.category(), l.channel());
  const std::string& id = l.work_order_id();
  live_[id] = LiveEntry{l, group};
  if (IsOpenBacklogState(l.state())) {
    open_by_deadline_.emplace(l.deadline_us(), id);
    if (l.level() == tv1::WARNING_LEVEL_YELLOW || l.level() == tv1::WARNING_LEVEL_RED) {
      warned_by_deadline_.emplace(l.deadline_us(), id);
    }
  }
  if (l.state() == kAwaitingSign) unsigned_by_sign_deadline_.emplace(l.sign_deadline_us(), id);
}

void Aggregates::EraseLiveLocked(const std::string& id) {
  auto it = live_.find(id);
  if (it == live_.end()) return;
  const internal::LiveWorkOrder& l = it->second.work_order;
  open_by_deadline_.erase({l.deadline_us(), id});
  warned_by_deadline_.erase({l.deadline_us(), id});
  unsigned_by_sign_deadline_.erase({l.sign_deadline_us(), id});
  live_.erase(it);
}

absl::StatusOr<std::optional<internal::TicketFact>> Aggregates::ReadFact(
    const std::string& ticket_id, const rocksdb::Snapshot* at) const {
  rocksdb::ReadOptions options;
  options.snapshot = at;
  std::string value;
  rocksdb::Status s = db_->db()->Get(options, facts_family_, FactKey(ticket_id), &value);
  if (s.IsNotFound()) return std::optional<internal::TicketFact>();
  RETURN_IF_ERROR(FromRocksStatus(s, "reading ticket facts"));
  internal::TicketFact fact;
  if (!fact.ParseFromString(value)) return Corrupt(FactKey(ticket_id));
  return std::optional<internal::TicketFact>(std::move(fact));
}

absl::Status Aggregates::Load() {
  absl::MutexLock apply_lock(&apply_mu_);
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(std::optional<std::string> last, db_->Get(meta_family_, kLastApplied));
  if (last.has_value() && !absl::SimpleAtoi(*last, &last_applied_)) return Corrupt(kLastApplied);
  ASSIGN_OR_RETURN(std::optional<std::string> time, db_->Get(meta_family_, kLastEventTime));
  if (time.has_value() && !absl::SimpleAtoi(*time, &last_event_time_us_)) {
    return Corrupt(kLastEventTime);
  }
  ASSIGN_OR_RETURN(std::optional<std::string> version, db_->Get(meta_family_, kCalendarVersion));
  if (version.has_value() && *version != calendar_->version()) {
    LOG(WARNING) << "handling times already applied were computed with calendar " << *version
                 << "; this server uses " << calendar_->version()
                 << ". Run metrics_rebuild to recompute them with the new calendar.";
  }
  absl::Status parsed = absl::OkStatus();
  RETURN_IF_ERROR(db_->ScanPrefix(
      buckets_family_, "b/",
      [&](absl::string_view key, absl::string_view value) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        // b/<day>/<department>\x1f<category>\x1f<channel>
        int32_t day = 0;
        std::vector<std::string> group =
            absl::StrSplit(key.substr(std::min<size_t>(key.size(), 11)), kSeparator);
        Counters counters;
        int channel = 0;
        if (key.size() < 11 || !absl::SimpleAtoi(key.substr(2, 8), &day) || group.size() != 3 ||
            !absl::SimpleAtoi(group[2], &channel) || !DecodeCounters(value, &counters)) {
          parsed = Corrupt(key);
          return false;
        }
        int g = InternLocked(group[0], group[1], channel);
        SetRowLocked(day, g, counters);
        AddBacklog(counters, &current_[g]);
        return true;
      }));
  RETURN_IF_ERROR(parsed);
  RETURN_IF_ERROR(db_->ScanPrefix(
      facts_family_, "l/",
      [&](absl::string_view key, absl::string_view value) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        internal::LiveWorkOrder l;
        if (!l.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          parsed = Corrupt(key);
          return false;
        }
        InsertLiveLocked(l);
        return true;
      }));
  RETURN_IF_ERROR(parsed);
  rocksdb::DB* db = db_->db();
  snapshot_ =
      SnapshotPtr(db->GetSnapshot(), [db](const rocksdb::Snapshot* s) { db->ReleaseSnapshot(s); });
  LOG(INFO) << "metrics store: last applied event " << last_applied_ << ", " << bucket_rows_
            << " day rows, " << live_.size() << " work orders in the backlog";
  return absl::OkStatus();
}

absl::Status Aggregates::Clear() {
  absl::MutexLock apply_lock(&apply_mu_);
  // One synced batch: a crash or a failing disk leaves the store as it was or empty, never
  // counters cleared under a sequence that says they hold events (the consumer would resume
  // after them and never count them again).
  rocksdb::WriteBatch batch;
  for (rocksdb::ColumnFamilyHandle* family : {buckets_family_, facts_family_, meta_family_}) {
    RETURN_IF_ERROR(FromRocksStatus(batch.DeleteRange(family, "", "\xff\xff\xff"),
                                    "clearing the metrics store"));
  }
  RETURN_IF_ERROR(db_->Write(&batch));
  absl::MutexLock lock(&mu_);
  last_applied_ = 0;
  last_event_time_us_ = 0;
  groups_.clear();
  group_ids_.clear();
  buckets_.clear();
  backlog_changes_.clear();
  bucket_rows_ = 0;
  current_.clear();
  live_.clear();
  open_by_deadline_.clear();
  unsigned_by_sign_deadline_.clear();
  warned_by_deadline_.clear();
  snapshot_.reset();
  return absl::OkStatus();
}

absl::Status Aggregates::Apply(const std::vector<tv1::TicketEvent>& events, size_t* failed_index) {
  absl::MutexLock apply_lock(&apply_mu_);
  int64_t sequence;
  int64_t event_time_us;
  {
    absl::ReaderMutexLock lock(&mu_);
    sequence = last_applied_;
    event_time_us = last_event_time_us_;
  }
  const int64_t first = sequence;

  // 1. Fold the events into the facts of the tickets they touch.
  struct Touched {
    std::optional<internal::TicketFact> before;
    internal::TicketFact after;
  };
  absl::flat_hash_map<std::string, Touched> touched;
  std::vector<std::string> order;
  for (size_t i = 0; i < events.size(); ++i) {
    const tv1::TicketEvent& e = events[i];
    if (e.global_sequence() <= sequence) continue;  // Delivered again: already counted.
    auto fail = [&](absl::Status status) {
      if (failed_index != nullptr) *failed_index = i;
      return status;
    };
    if (e.global_sequence() != sequence + 1) {
      return fail(absl::FailedPreconditionError(absl::StrCat(
          "event ", e.global_sequence(), " does not follow the last applied event ", sequence,
          ": events are missing from the stream; rebuild from the ticket service's event log")));
    }
    auto it = touched.find(e.ticket_id());
    if (it == touched.end()) {
      absl::StatusOr<std::optional<internal::TicketFact>> stored = ReadFact(e.ticket_id(), nullptr);
      if (!stored.ok()) return stored.status();  // Not the event's fault: retry later.
      Touched t;
      t.before = std::move(*stored);
      if (t.before.has_value()) t.after = *t.before;
      it = touched.emplace(e.ticket_id(), std::move(t)).first;
      order.push_back(e.ticket_id());
    }
    if (absl::Status s = ApplyEvent(e, *calendar_, &it->second.after); !s.ok()) return fail(s);
    sequence = e.global_sequence();
    event_time_us = ToMicros(e.event_time());
  }
  if (sequence == first) return absl::OkStatus();

  // 2. Each touched ticket's contribution after minus before, and its index changes.
  struct GroupParts {
    std::string department;
    std::string category;
    int channel;
  };
  absl::flat_hash_map<std::string, GroupParts> group_parts;
  absl::flat_hash_map<std::pair<int32_t, std::string>, Counters> deltas;
  std::vector<std::string> live_erased;
  std::vector<internal::LiveWorkOrder> live_put;
  rocksdb::WriteBatch batch;
  for (const std::string& id : order) {
    const Touched& t = touched[id];
    auto add = [&](const internal::TicketFact& fact, int sign, std::set<int32_t>* days) {
      for (const Contribution& c : Contributions(fact)) {
        int32_t day = DayOfMicros(c.time_us);
        days->insert(day);
        std::string group = GroupKey(*c.department, fact.category(), fact.channel());
        group_parts.try_emplace(group, GroupParts{*c.department, fact.category(), fact.channel()});
        deltas[{day, std::move(group)}][c.field] += sign * c.value;
      }
    };
    std::set<int32_t> old_days, new_days;
    if (t.before.has_value()) add(*t.before, -1, &old_days);
    add(t.after, 1, &new_days);
    for (int32_t day : new_days) {
      if (!old_days.count(day)) batch.Put(facts_family_, TouchPrefix(day) + id, "");
    }
    for (int32_t day : old_days) {
      if (!new_days.count(day)) batch.Delete(facts_family_, TouchPrefix(day) + id);
    }
    batch.Put(facts_family_, FactKey(id), t.after.SerializeAsString());

    std::map<std::string, std::string> old_live;
    if (t.before.has_value()) {
      for (const internal::LiveWorkOrder& l : LiveWorkOrders(*t.before)) {
        old_live[l.work_order_id()] = l.SerializeAsString();
      }
    }
    for (internal::LiveWorkOrder& l : LiveWorkOrders(t.after)) {
      std::string value = l.SerializeAsString();
      auto previous = old_live.find(l.work_order_id());
      if (previous == old_live.end() || previous->second != value) {
        batch.Put(facts_family_, LiveKey(l.work_order_id()), value);
        live_put.push_back(std::move(l));
      }
      if (previous != old_live.end()) old_live.erase(previous);
    }
    for (const auto& [work_order, unused] : old_live) {
      batch.Delete(facts_family_, LiveKey(work_order));
      live_erased.push_back(work_order);
    }
  }

  // 3. The new value of every changed day row.
  struct RowUpdate {
    int32_t day;
    const GroupParts* group;
    Counters value;
    Counters delta;
  };
  std::vector<RowUpdate> updates;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (auto& [key, delta] : deltas) {
      const GroupParts& parts = group_parts.at(key.second);
      RowUpdate u{key.first, &parts, delta, delta};
      if (!IsZero(delta)) {
        auto g = group_ids_.find(key.second);
        auto day = buckets_.find(key.first);
        if (g != group_ids_.end() && day != buckets_.end()) {
          auto row = day->second.find(g->second);
          if (row != day->second.end()) {
            for (int f = 0; f < kFieldCount; ++f) u.value[f] += row->second[f];
          }
        }
        if (IsZero(u.value)) {
          batch.Delete(buckets_family_, BucketKey(key.first, key.second));
        } else {
          batch.Put(buckets_family_, BucketKey(key.first, key.second), EncodeCounters(u.value));
        }
      }
      updates.push_back(u);
    }
  }
  batch.Put(meta_family_, kLastApplied, absl::StrCat(sequence));
  batch.Put(meta_family_, kLastEventTime, absl::StrCat(event_time_us));
  batch.Put(meta_family_, kCalendarVersion, calendar_->version());

  // 4. Durable first, then visible.
  RETURN_IF_ERROR(db_->Write(&batch));
  {
    absl::MutexLock lock(&mu_);
    for (const RowUpdate& u : updates) {
      // Every group an item was ever counted for is known, even if its rows sum to zero, so
      // that the facts of a partial day always find their group.
      int g = InternLocked(u.group->department, u.group->category, u.group->channel);
      if (IsZero(u.delta)) continue;
      SetRowLocked(u.day, g, u.value);
      AddBacklog(u.delta, &current_[g]);
    }
    for (const std::string& id : live_erased) EraseLiveLocked(id);
    for (const internal::LiveWorkOrder& l : live_put) {
      EraseLiveLocked(l.work_order_id());
      InsertLiveLocked(l);
    }
    last_applied_ = sequence;
    last_event_time_us_ = event_time_us;
    rocksdb::DB* db = db_->db();
    snapshot_ = SnapshotPtr(db->GetSnapshot(),
                            [db](const rocksdb::Snapshot* s) { db->ReleaseSnapshot(s); });
  }
  std::vector<std::function<void(int64_t)>> listeners;
  {
    absl::MutexLock lock(&listeners_mu_);
    for (const auto& l : listeners_) listeners.push_back(l.second);
  }
  for (const auto& listener : listeners) listener(sequence);
  return absl::OkStatus();
}

void Aggregates::SetRowLocked(int32_t day, int group, const Counters& value) {
  auto& rows = buckets_[day];
  if (IsZero(value)) {
    bucket_rows_ -= rows.erase(group);
    if (rows.empty()) buckets_.erase(day);
  } else if (rows.insert_or_assign(group, value).second) {
    ++bucket_rows_;
  }
  BacklogChanges changes;
  for (size_t i = 0; i < kBacklogFields.size(); ++i) changes[i] = value[kBacklogFields[i]];
  auto& backlog = backlog_changes_[day];
  if (std::all_of(changes.begin(), changes.end(), [](int64_t v) { return v == 0; })) {
    backlog.erase(group);
    if (backlog.empty()) backlog_changes_.erase(day);
  } else {
    backlog.insert_or_assign(group, changes);
  }
}

bool Aggregates::MatchesLocked(const Selection& s, const Group& g) const {
  if (!s.departments.empty() &&
      std::find(s.departments.begin(), s.departments.end(), g.department) == s.departments.end()) {
    return false;
  }
  if (!s.channels.empty() &&
      std::find(s.channels.begin(), s.channels.end(), g.channel) == s.channels.end()) {
    return false;
  }
  if (!s.category_prefix.empty() && g.category != s.category_prefix &&
      !absl::StartsWith(g.category, s.category_prefix + "/")) {
    return false;
  }
  return true;
}

Aggregates::Resolution Aggregates::ResolveLocked(const Selection& s) const {
  Resolution r;
  r.row_of_group.assign(groups_.size(), -1);
  std::map<RowKey, int> index;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const Group& group = groups_[g];
    if (!MatchesLocked(s, group)) continue;
    RowKey key;
    switch (s.group_by) {
      case v1::DIMENSION_DEPARTMENT:
        key.text = group.department;
        break;
      case v1::DIMENSION_CATEGORY:
        key.text = TruncateCategory(group.category, s.category_depth);
        break;
      case v1::DIMENSION_CHANNEL:
        key.channel = group.channel;
        break;
      default:
        break;
    }
    auto [it, inserted] = index.try_emplace(key, static_cast<int>(r.rows.size()));
    if (inserted) r.rows.push_back(key);
    r.row_of_group[g] = it->second;
  }
  return r;
}

absl::Status Aggregates::AddFromFactsLocked(const Resolution& r, absl::Time from, absl::Time to,
                                            absl::Time now, bool backlog,
                                            std::vector<Counters>* rows) const {
  const std::string prefix = TouchPrefix(DayOf(from));
  const int64_t from_us = absl::ToUnixMicros(from);
  const int64_t to_us = absl::ToUnixMicros(to);
  const int64_t now_us = absl::ToUnixMicros(now);
  rocksdb::ReadOptions options;
  options.snapshot = snapshot_.get();
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(options, facts_family_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string id = it->key().ToString().substr(prefix.size());
    absl::StatusOr<std::optional<internal::TicketFact>> fact = ReadFact(id, snapshot_.get());
    if (!fact.ok()) {
      return absl::DataLossError(
          absl::StrCat("facts of ticket ", id, " unreadable: ", fact.status().message()));
    }
    if (!fact->has_value()) {
      return absl::DataLossError(absl::StrCat("facts of ticket ", id, " missing from the store"));
    }
    const internal::TicketFact& f = **fact;
    for (const Contribution& c : Contributions(f)) {
      if (c.time_us < from_us || c.time_us >= to_us) continue;
      if (IsBacklogField(c.field) != backlog) continue;
      if (IsOpenField(c.field) && c.time_us >= now_us) continue;
      std::optional<int> g = FindGroupLocked(*c.department, f.category(), f.channel());
      if (!g.has_value() || *g >= static_cast<int>(r.row_of_group.size())) continue;
      int row = r.row_of_group[*g];
      if (row >= 0) (*rows)[row][c.field] += c.value;
    }
  }
  if (!it->status().ok()) return FromRocksStatus(it->status(), "scanning the day index");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<WindowTally>> Aggregates::Compute(const Selection& selection,
                                                             const std::vector<TimeWindow>& windows,
                                                             absl::Time now) const {
  absl::ReaderMutexLock lock(&mu_);
  const Resolution r = ResolveLocked(selection);
  const size_t n = r.rows.size();
  const int64_t now_us = absl::ToUnixMicros(now);
  auto row_of = [&](int g) {
    return g < static_cast<int>(r.row_of_group.size()) ? r.row_of_group[g] : -1;
  };

  // The backlog now, per row.
  std::vector<Counters> current(n, Counters{});
  for (const auto& [g, c] : current_) {
    int row = row_of(g);
    if (row >= 0) AddBacklog(c, &current[row]);
  }

  // The backlog at the end of each ended window: now minus the changes at or after the end.
  // Windows are visited from the latest end back, so the changes are summed only once.
  std::vector<std::vector<Counters>> backlog_at_end(windows.size());
  std::vector<size_t> ended;
  for (size_t i = 0; i < windows.size(); ++i) {
    if (windows[i].end <= now) ended.push_back(i);
  }
  std::sort(ended.begin(), ended.end(),
            [&](size_t a, size_t b) { return windows[a].end > windows[b].end; });
  std::vector<Counters> later(n, Counters{});
  int32_t summed_from = std::numeric_limits<int32_t>::max();
  for (size_t i : ended) {
    const absl::Time end = windows[i].end;
    const int32_t day = DayOf(end);
    const bool aligned = DayStart(day) == end;
    const int32_t from_day = aligned ? day : day + 1;
    for (auto it = backlog_changes_.lower_bound(from_day);
         it != backlog_changes_.end() && it->first < summed_from; ++it) {
      for (const auto& [g, c] : it->second) {
        int row = row_of(g);
        if (row < 0) continue;
        for (size_t f = 0; f < c.size(); ++f) later[row][kBacklogFields[f]] += c[f];
      }
    }
    summed_from = std::min(summed_from, from_day);
    std::vector<Counters> at_end = current;
    for (size_t row = 0; row < n; ++row) AddBacklog(later[row], &at_end[row], -1);
    if (!aligned) {
      std::vector<Counters> partial(n, Counters{});
      RETURN_IF_ERROR(
          AddFromFactsLocked(r, end, DayStart(day + 1), now, /*backlog=*/true, &partial));
      for (size_t row = 0; row < n; ++row) AddBacklog(partial[row], &at_end[row], -1);
    }
    backlog_at_end[i] = std::move(at_end);
  }

  std::vector<WindowTally> out(windows.size());
  for (size_t i = 0; i < windows.size(); ++i) {
    const TimeWindow& w = windows[i];
    std::vector<Counters> acc(n, Counters{});
    auto add_day = [&](const absl::flat_hash_map<int, Counters>& rows, bool opens) {
      for (const auto& [g, c] : rows) {
        int row = row_of(g);
        if (row < 0) continue;
        for (int f = 0; f < kFieldCount; ++f) {
          if (IsBacklogField(f) || (!opens && IsOpenField(f))) continue;
          acc[row][f] += c[f];
        }
      }
    };
    auto add_passed = [&](const ByTime& index, Field field,
                          absl::Time from) ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      for (auto it = index.lower_bound({absl::ToUnixMicros(from), std::string()});
           it != index.end() && it->first < now_us; ++it) {
        int row = row_of(live_.at(it->second).group);
        if (row >= 0) ++acc[row][field];
      }
    };
    if (w.end > w.start) {
      for (int32_t day = DayOf(w.start), last = DayOf(w.end - absl::Microseconds(1)); day <= last;
           ++day) {
        const absl::Time day_start = DayStart(day);
        const absl::Time day_end = DayStart(day + 1);
        const absl::Time from = std::max(w.start, day_start);
        const absl::Time to = std::min(w.end, day_end);
        if (from != day_start || to != day_end) {
          RETURN_IF_ERROR(AddFromFactsLocked(r, from, to, now, /*backlog=*/false, &acc));
          continue;
        }
        auto bucket = buckets_.find(day);
        // Open items count once their deadline has passed: on past days all of them, today
        // those before now (from the backlog in memory), on later days none.
        if (bucket != buckets_.end()) add_day(bucket->second, day_end <= now);
        if (day_start < now && now < day_end) {
          add_passed(open_by_deadline_, kOpenByDeadline, day_start);
          add_passed(unsigned_by_sign_deadline_, kSignOpen, day_start);
        }
      }
    }
    const std::vector<Counters>& backlog = w.end <= now ? backlog_at_end[i] : current;
    for (size_t row = 0; row < n; ++row) AddBacklog(backlog[row], &acc[row]);

    WindowTally& t = out[i];
    t.sequence = last_applied_;
    t.as_of = w.end <= now ? w.end : now;
    std::vector<size_t> order(n);
    for (size_t row = 0; row < n; ++row) {
      order[row] = row;
      for (int f = 0; f < kFieldCount; ++f) t.totals[f] += acc[row][f];
    }
    if (selection.group_by != v1::DIMENSION_UNSPECIFIED) {
      std::sort(order.begin(), order.end(),
                [&](size_t a, size_t b) { return r.rows[a] < r.rows[b]; });
      for (size_t row : order) {
        if (!IsZero(acc[row])) t.rows.emplace_back(r.rows[row], acc[row]);
      }
    }
  }
  return out;
}

Aggregates::OverduePage Aggregates::ListWarned(
    const Selection& selection, const std::vector<int>& levels,
    const std::optional<std::pair<int64_t, std::string>>& after, size_t limit) const {
  absl::ReaderMutexLock lock(&mu_);
  Selection filter = selection;
  filter.group_by = v1::DIMENSION_UNSPECIFIED;
  const Resolution r = ResolveLocked(filter);
  OverduePage page;
  page.sequence = last_applied_;
  for (const auto& position : warned_by_deadline_) {
    const LiveEntry& e = live_.at(position.second);
    if (e.group >= static_cast<int>(r.row_of_group.size()) || r.row_of_group[e.group] < 0) {
      continue;
    }
    if (!levels.empty() &&
        std::find(levels.begin(), levels.end(), e.work_order.level()) == levels.end()) {
      continue;
    }
    ++page.total;
    if (after.has_value() && !(position > *after)) continue;
    if (page.items.size() < limit) {
      page.items.push_back(e.work_order);
    } else {
      page.more = true;
    }
  }
  return page;
}

}  // namespace hotline::metrics
