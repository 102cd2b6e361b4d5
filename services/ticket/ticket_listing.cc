#include "services/ticket/ticket_listing.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/proto_time.h"
#include "common/rocks_store.h"
#include "common/status_macros.h"
#include "services/ticket/ticket_machine.h"
#include "services/ticket/ticket_store.h"

namespace hotline::ticket {
namespace {

constexpr size_t kSortKeyWidth = 20;  // TicketStore::Number.
constexpr char kOrders[] = {'c', 'u', 'd'};

char OrderLetter(absl::string_view field) {
  if (field == "update_time") return 'u';
  if (field == "deadline") return 'd';
  return 'c';
}

std::string Prefix(absl::string_view dimension, char order) {
  return absl::StrCat(kListingKeyPrefix, dimension, "\x01", std::string(1, order), "/");
}

std::string StateDimension(int state) { return absl::StrFormat("s%02d", state); }
std::string WorkOrderStateDimension(int state) { return absl::StrFormat("w%02d", state); }
std::string WarningDimension(int level) { return absl::StrFormat("g%02d", level); }

// The distinct values of a repeated enum filter, each as a dimension.
template <typename Values>
std::vector<std::string> Each(const Values& values, std::string (*dimension)(int),
                              const std::string& within = "") {
  std::vector<int> distinct(values.begin(), values.end());
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::vector<std::string> out;
  for (int v : distinct) out.push_back(within.empty() ? dimension(v) : within + dimension(v));
  return out;
}

std::string TimeKey(const google::protobuf::Timestamp& t) {
  return TicketStore::Number(absl::ToUnixMicros(FromProtoTime(t)));
}

}  // namespace

std::string ListingSortKey(const v1::Ticket& t, absl::string_view order_field) {
  switch (OrderLetter(order_field)) {
    case 'u':
      return TimeKey(t.update_time());
    case 'd':
      // Tickets without a deadline sort after every deadline.
      return t.has_deadline() ? TimeKey(t.deadline()) : std::string(kSortKeyWidth, '9');
    default:
      return TimeKey(t.create_time());
  }
}

std::vector<std::string> ListingKeys(const v1::Ticket& t) {
  std::vector<std::string> dimensions = {"a", StateDimension(t.state())};
  auto add = [&](std::string d) {
    if (std::find(dimensions.begin(), dimensions.end(), d) == dimensions.end()) {
      dimensions.push_back(std::move(d));
    }
  };
  // The current cycle's active work orders: by their states, by whether one is open (the
  // candidates of overdue_only), and the same within each department.
  for (const v1::WorkOrder& w : t.work_orders()) {
    if (w.cycle() != t.cycle() || !IsActive(w)) continue;
    const std::string department = "d" + w.department_id();
    add(department);
    add(absl::StrCat(department, "\x02", StateDimension(t.state())));
    add(WorkOrderStateDimension(w.state()));
    add(absl::StrCat(department, "\x02", WorkOrderStateDimension(w.state())));
    if (IsOpen(w)) {
      add("o");
      add(absl::StrCat(department, "\x02o"));
    }
  }
  if (t.warning_level() != v1::WARNING_LEVEL_UNSPECIFIED &&
      t.warning_level() != v1::WARNING_LEVEL_NONE) {
    add(WarningDimension(t.warning_level()));
  }
  // The path and each ancestor, so that a prefix matches whole segments only.
  const std::string& path = t.category_path();
  for (size_t end = path.find('/'); !path.empty(); end = path.find('/', end + 1)) {
    add("c" + path.substr(0, end));
    if (end == std::string::npos) break;
  }
  if (!t.caller_phone().empty()) add("p" + t.caller_phone());
  const std::string sort_keys[] = {ListingSortKey(t, "create_time"),
                                   ListingSortKey(t, "update_time"), ListingSortKey(t, "deadline")};
  std::vector<std::string> keys;
  keys.reserve(dimensions.size() * 3);
  std::sort(dimensions.begin(), dimensions.end());
  for (const std::string& dimension : dimensions) {
    for (int i = 0; i < 3; ++i) {
      keys.push_back(absl::StrCat(Prefix(dimension, kOrders[i]), sort_keys[i], "/", t.id()));
    }
  }
  return keys;
}

ListingWalk PlanListing(const v1::ListTicketsRequest& r, absl::string_view order_field,
                        bool descending) {
  ListingWalk walk;
  walk.descending = descending;
  const char order = OrderLetter(order_field);
  // The most selective dimension the request's filters allow; the walk's keys are a superset
  // of the matches, which the filters then pick out.
  std::vector<std::string> dimensions;
  const bool warnings_only =
      r.warning_levels_size() > 0 &&
      std::none_of(r.warning_levels().begin(), r.warning_levels().end(), [](int l) {
        return l == v1::WARNING_LEVEL_NONE || l == v1::WARNING_LEVEL_UNSPECIFIED;
      });
  if (!r.department_id().empty()) {
    const std::string within = absl::StrCat("d", r.department_id(), "\x02");
    if (r.states_size() > 0) {
      dimensions = Each(r.states(), StateDimension, within);
    } else if (r.work_order_states_size() > 0) {
      dimensions = Each(r.work_order_states(), WorkOrderStateDimension, within);
    } else if (r.overdue_only()) {
      dimensions = {within + "o"};
    } else {
      dimensions = {"d" + r.department_id()};
    }
  } else if (!r.caller_phone().empty()) {
    dimensions = {"p" + r.caller_phone()};
  } else if (r.work_order_states_size() > 0) {
    dimensions = Each(r.work_order_states(), WorkOrderStateDimension);
  } else if (warnings_only) {
    dimensions = Each(r.warning_levels(), WarningDimension);
  } else if (r.overdue_only()) {
    dimensions = {"o"};
  } else if (r.states_size() > 0) {
    dimensions = Each(r.states(), StateDimension);
  } else if (!r.category_prefix().empty()) {
    dimensions = {absl::StrCat("c", absl::StripSuffix(r.category_prefix(), "/"))};
  } else {
    dimensions = {"a"};
  }
  for (const std::string& d : dimensions) walk.prefixes.push_back(Prefix(d, order));
  // A range on the order's own field bounds the walk (the filter still checks every ticket).
  if (order == 'c') {
    if (r.has_create_time_after()) walk.lower = TimeKey(r.create_time_after());
    if (r.has_create_time_before()) walk.upper = TimeKey(r.create_time_before());
  } else if (order == 'd') {
    if (r.has_deadline_after()) walk.lower = TimeKey(r.deadline_after());
    if (r.has_deadline_before()) walk.upper = TimeKey(r.deadline_before());
  }
  return walk;
}

namespace {

// One sorted run of the walk: an iterator over the keys under `prefix`, within the bounds.
class Run {
 public:
  Run(std::unique_ptr<rocksdb::Iterator> it, std::string prefix, const ListingWalk& walk)
      : it_(std::move(it)), prefix_(std::move(prefix)), walk_(walk) {}

  void Start(const std::string& after) {
    if (!walk_.descending) {
      if (!after.empty() && (walk_.lower.empty() || after >= walk_.lower)) {
        it_->Seek(prefix_ + after);
        if (Here() && Suffix() == after) it_->Next();
      } else {
        it_->Seek(prefix_ + walk_.lower);
      }
    } else {
      if (!after.empty() && (walk_.upper.empty() || after < walk_.upper)) {
        it_->SeekForPrev(prefix_ + after);
        if (Here() && Suffix() == after) it_->Prev();
      } else {
        // Below every key with the upper bound's sort key ("<upper>/<id>" sorts after it).
        it_->SeekForPrev(walk_.upper.empty() ? prefix_ + "\xff" : prefix_ + walk_.upper);
      }
    }
  }

  // Whether the run has a key here, within its prefix and the walk's bounds.
  bool Valid() const {
    if (!Here()) return false;
    absl::string_view sort_key = Suffix().substr(0, kSortKeyWidth);
    if (!walk_.descending) return walk_.upper.empty() || sort_key < walk_.upper;
    return walk_.lower.empty() || sort_key >= walk_.lower;
  }

  // "<sort key>/<ticket id>".
  absl::string_view Suffix() const {
    return absl::string_view(it_->key().data(), it_->key().size()).substr(prefix_.size());
  }

  void Advance() {
    if (walk_.descending) {
      it_->Prev();
    } else {
      it_->Next();
    }
  }

  absl::Status status() const { return FromRocksStatus(it_->status(), "reading a listing"); }

 private:
  bool Here() const { return it_->Valid() && it_->key().starts_with(prefix_); }

  std::unique_ptr<rocksdb::Iterator> it_;
  std::string prefix_;
  const ListingWalk& walk_;
};

}  // namespace

absl::StatusOr<ListingPage> WalkListing(const TicketStore& store, const ListingWalk& walk,
                                        const std::string& after, size_t page_size, size_t budget,
                                        const std::function<bool(const v1::Ticket&)>& matches) {
  const TicketStore::ReadView view = store.NewReadView();
  std::vector<Run> runs;
  runs.reserve(walk.prefixes.size());
  for (const std::string& prefix : walk.prefixes) {
    runs.emplace_back(store.IndexIterator(view), prefix, walk);
    runs.back().Start(after);
  }
  ListingPage page;
  std::string last_walked;
  std::string last_kept;
  size_t walked = 0;
  while (true) {
    // The next key of the merged runs in the walk's direction.
    Run* next = nullptr;
    for (Run& run : runs) {
      if (!run.Valid()) continue;
      if (next == nullptr ||
          (walk.descending ? run.Suffix() > next->Suffix() : run.Suffix() < next->Suffix())) {
        next = &run;
      }
    }
    if (next == nullptr) break;  // The end: no token.
    if (!last_walked.empty() && next->Suffix() == last_walked) {
      // The same ticket in another run (two of its work orders in two of the states asked).
      next->Advance();
      continue;
    }
    if (walked == budget) {
      page.resume_after = last_walked;
      break;
    }
    std::string suffix(next->Suffix());
    next->Advance();
    ++walked;
    const size_t cut = suffix.find('/');
    if (cut == std::string::npos) return absl::DataLossError("corrupt listing key " + suffix);
    ASSIGN_OR_RETURN(std::optional<v1::Ticket> ticket,
                     store.TicketAt(view, suffix.substr(cut + 1)));
    last_walked = std::move(suffix);
    if (!ticket.has_value() || !matches(*ticket)) continue;
    if (page.tickets.size() == page_size) {
      // One more exists: the page is full and the next one starts after its last ticket.
      page.resume_after = last_kept;
      break;
    }
    page.tickets.push_back(std::move(*ticket));
    last_kept = last_walked;
  }
  for (const Run& run : runs) RETURN_IF_ERROR(run.status());
  return page;
}

}  // namespace hotline::ticket
