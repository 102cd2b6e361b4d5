// The listing walks against a count of their own: random tickets in a real store, random
// requests, every page walked with small budgets and page sizes, and the concatenated pages
// compared with the tickets filtered and sorted in memory. Then after changes (the old keys
// must go), and after a restart from the previous layout's keys (the rebuild).
#include "services/ticket/ticket_listing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/proto_time.h"
#include "common/rocks_store.h"
#include "services/ticket/ticket_machine.h"
#include "services/ticket/ticket_store.h"
#include "tests/support/test_util.h"

namespace hotline::ticket {
namespace {

const absl::Time kEpoch = absl::FromUnixSeconds(1727300000);  // September 2024.
const absl::Time kNow = kEpoch + absl::Hours(5);              // For overdue_only.

class TicketListingTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    auto db = RocksStore::Open(
        {.path = dir_.Sub("db"), .column_families = TicketStore::Families(), .sync_writes = false});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    store_ = std::make_unique<TicketStore>(
        db_.get(), [](const v1::WorkOrder&) { return absl::InfiniteFuture(); });
    ASSERT_TRUE(store_->Init().ok());
  }

  void Close() {
    store_.reset();
    db_.reset();
  }

  v1::Ticket RandomTicket(int n) {
    static const char* const kCategories[] = {
        "城乡建设",   "城乡建设/物业管理", "城乡建设/物业管理/停车",
        "城乡建设局", "交通运输/出租车",   ""};
    static const char* const kDepartments[] = {"water", "hrss", "housing", "traffic"};
    v1::Ticket t;
    t.set_id(absl::StrFormat("T20240926-%06d", n));
    t.set_state(static_cast<v1::TicketState>(1 + rng_() % 6));
    t.set_category_path(kCategories[rng_() % 6]);
    if (rng_() % 3 != 0) t.set_caller_phone(absl::StrCat("1380000000", rng_() % 4));
    // Few distinct instants, so that ties (broken by id) are common.
    *t.mutable_create_time() = ToProtoTime(kEpoch + absl::Minutes(rng_() % 20));
    *t.mutable_update_time() = ToProtoTime(kEpoch + absl::Minutes(rng_() % 20));
    if (rng_() % 4 != 0) *t.mutable_deadline() = ToProtoTime(kEpoch + absl::Hours(rng_() % 10));
    t.set_kind(static_cast<v1::TicketKind>(1 + rng_() % 3));
    t.set_cycle(1 + rng_() % 2);
    t.set_warning_level(static_cast<v1::WarningLevel>(rng_() % 4));
    static const v1::WorkOrderState kOrderStates[] = {
        v1::WORK_ORDER_STATE_PENDING_SIGN, v1::WORK_ORDER_STATE_SIGNED,
        v1::WORK_ORDER_STATE_REPLIED,      v1::WORK_ORDER_STATE_RETURNED,
        v1::WORK_ORDER_STATE_REDISPATCHED, v1::WORK_ORDER_STATE_CANCELLED};
    for (int i = 0, orders = rng_() % 4; i < orders; ++i) {
      v1::WorkOrder* w = t.add_work_orders();
      w->set_id(absl::StrCat(t.id(), "-W", i + 1));
      w->set_department_id(kDepartments[rng_() % 4]);
      w->set_cycle(1 + rng_() % 2);  // Some of an earlier cycle: not the current ones.
      w->set_state(kOrderStates[rng_() % 6]);
      *w->mutable_deadline() = ToProtoTime(kEpoch + absl::Hours(rng_() % 10));
    }
    return t;
  }

  void Commit(const v1::Ticket& before, const v1::Ticket& after) {
    std::vector<TicketChange> changes(1);
    changes[0].before = before;
    changes[0].after = after;
    ASSERT_TRUE(store_->Commit(&changes).ok());
    tickets_[after.id()] = after;
  }

  v1::ListTicketsRequest RandomRequest(std::string* order, bool* descending) {
    static const char* const kOrders[] = {"create_time", "update_time", "deadline"};
    static const char* const kPrefixes[] = {"城乡建设", "城乡建设/", "城乡建设/物业管理",
                                            "交通运输"};
    v1::ListTicketsRequest r;
    *order = kOrders[rng_() % 3];
    *descending = rng_() % 2 == 0;
    switch (rng_() % 8) {
      case 0:
        r.set_department_id(rng_() % 2 ? "water" : "housing");
        break;
      case 5:
        for (int i = 0, n = 1 + rng_() % 2; i < n; ++i) {
          r.add_work_order_states(static_cast<v1::WorkOrderState>(1 + rng_() % 8));
        }
        break;
      case 6:
        for (int i = 0, n = 1 + rng_() % 2; i < n; ++i) {
          r.add_warning_levels(static_cast<v1::WarningLevel>(rng_() % 4));
        }
        break;
      case 7:
        r.set_overdue_only(true);
        break;
      case 1:
        r.set_caller_phone(absl::StrCat("1380000000", rng_() % 4));
        break;
      case 2:
        for (int i = 0, n = 1 + rng_() % 3; i < n; ++i) {
          r.add_states(static_cast<v1::TicketState>(1 + rng_() % 6));
        }
        break;
      case 3:
        r.set_category_prefix(kPrefixes[rng_() % 4]);
        break;
      default:
        break;
    }
    if (rng_() % 3 == 0) {
      *r.mutable_create_time_after() = ToProtoTime(kEpoch + absl::Minutes(rng_() % 10));
    }
    if (rng_() % 3 == 0) {
      *r.mutable_create_time_before() = ToProtoTime(kEpoch + absl::Minutes(5 + rng_() % 15));
    }
    if (rng_() % 4 == 0)
      *r.mutable_deadline_after() = ToProtoTime(kEpoch + absl::Hours(rng_() % 5));
    if (rng_() % 4 == 0) {
      *r.mutable_deadline_before() = ToProtoTime(kEpoch + absl::Hours(3 + rng_() % 7));
    }
    if (rng_() % 3 == 0) r.add_kinds(static_cast<v1::TicketKind>(1 + rng_() % 3));  // Unindexed.
    // The department's own walks: with its states, work-order states or overdue.
    if (!r.department_id().empty()) {
      switch (rng_() % 4) {
        case 0:
          r.add_states(static_cast<v1::TicketState>(1 + rng_() % 6));
          break;
        case 1:
          r.add_work_order_states(static_cast<v1::WorkOrderState>(1 + rng_() % 8));
          break;
        case 2:
          r.set_overdue_only(true);
          break;
        default:
          break;
      }
    }
    return r;
  }

  // The request's filters, counted here without the indexes.
  static bool Reference(const v1::ListTicketsRequest& r, const v1::Ticket& t) {
    auto in = [](const auto& list, int value) {
      return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
    };
    if (!in(r.states(), t.state()) || !in(r.kinds(), t.kind()) ||
        !in(r.warning_levels(), t.warning_level())) {
      return false;
    }
    if (!r.department_id().empty() || r.work_order_states_size() > 0 || r.overdue_only()) {
      bool any = false;
      for (const v1::WorkOrder& w : t.work_orders()) {
        const bool current = w.cycle() == t.cycle() &&
                             w.state() != v1::WORK_ORDER_STATE_REDISPATCHED &&
                             w.state() != v1::WORK_ORDER_STATE_CANCELLED;
        const bool open = IsOpen(w);  // The machine's own definition.
        any |= current && (r.department_id().empty() || w.department_id() == r.department_id()) &&
               in(r.work_order_states(), w.state()) &&
               (!r.overdue_only() || (open && kNow > FromProtoTime(w.deadline())));
      }
      if (!any) return false;
    }
    if (!r.caller_phone().empty() && t.caller_phone() != r.caller_phone()) return false;
    if (!r.category_prefix().empty()) {
      std::string p = r.category_prefix();
      if (p.back() == '/') p.pop_back();
      if (t.category_path() != p && t.category_path().rfind(p + "/", 0) != 0) return false;
    }
    auto time = [](const google::protobuf::Timestamp& x) { return FromProtoTime(x); };
    if (r.has_create_time_after() && time(t.create_time()) < time(r.create_time_after())) {
      return false;
    }
    if (r.has_create_time_before() && time(t.create_time()) >= time(r.create_time_before())) {
      return false;
    }
    if (r.has_deadline_after() &&
        (!t.has_deadline() || time(t.deadline()) < time(r.deadline_after()))) {
      return false;
    }
    if (r.has_deadline_before() &&
        (!t.has_deadline() || time(t.deadline()) >= time(r.deadline_before()))) {
      return false;
    }
    return true;
  }

  // Checks `requests` random requests, each paged through completely.
  void CheckRandomRequests(int requests) {
    for (int i = 0; i < requests; ++i) {
      std::string order;
      bool descending;
      v1::ListTicketsRequest r = RandomRequest(&order, &descending);
      std::vector<std::pair<std::string, std::string>> expected;
      for (const auto& [id, t] : tickets_) {
        if (Reference(r, t)) expected.emplace_back(ListingSortKey(t, order), id);
      }
      std::sort(expected.begin(), expected.end());
      if (descending) std::reverse(expected.begin(), expected.end());

      const size_t page_size = 1 + rng_() % 7;
      const size_t budget = 1 + rng_() % 12;
      const ListingWalk walk = PlanListing(r, order, descending);
      std::vector<std::pair<std::string, std::string>> got;
      std::string after;
      int pages = 0;
      do {
        absl::StatusOr<ListingPage> page =
            WalkListing(*store_, walk, after, page_size, budget,
                        [&](const v1::Ticket& t) { return Reference(r, t); });
        ASSERT_TRUE(page.ok()) << page.status();
        ASSERT_LE(page->tickets.size(), page_size);
        for (const v1::Ticket& t : page->tickets)
          got.emplace_back(ListingSortKey(t, order), t.id());
        ASSERT_TRUE(page->resume_after.empty() || after.empty() ||
                    (descending ? page->resume_after < after : page->resume_after > after))
            << "the walk must move on";
        after = page->resume_after;
        ASSERT_LT(++pages, 10000);
      } while (!after.empty());
      ASSERT_EQ(got, expected) << "request " << r.ShortDebugString() << " order " << order
                               << (descending ? " desc" : "") << " page " << page_size << " budget "
                               << budget;
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<RocksStore> db_;
  std::unique_ptr<TicketStore> store_;
  std::map<std::string, v1::Ticket> tickets_;
  std::mt19937 rng_{20241001};
};

TEST_F(TicketListingTest, EveryWalkPagesThroughExactlyTheMatchingTicketsInOrder) {
  for (int n = 1; n <= 300; ++n) Commit(v1::Ticket(), RandomTicket(n));
  CheckRandomRequests(400);
}

TEST_F(TicketListingTest, ChangedTicketsLeaveNoKeyBehind) {
  for (int n = 1; n <= 200; ++n) Commit(v1::Ticket(), RandomTicket(n));
  // Half of them change everything a listing looks at.
  for (int n = 1; n <= 200; n += 2) {
    const std::string id = absl::StrFormat("T20240926-%06d", n);
    v1::Ticket changed = RandomTicket(n);
    Commit(tickets_[id], changed);
  }
  CheckRandomRequests(300);
  // Every listing key in the store is one a ticket should have.
  std::set<std::string> wanted;
  for (const auto& [id, t] : tickets_) {
    for (const std::string& k : ListingKeys(t)) wanted.insert(k);
  }
  std::set<std::string> stored;
  ASSERT_TRUE(store_
                  ->ScanIndex(kListingKeyPrefix,
                              [&](absl::string_view key) {
                                stored.emplace(key);
                                return true;
                              })
                  .ok());
  EXPECT_EQ(stored, wanted);
}

TEST_F(TicketListingTest, AStoreOfThePreviousLayoutIsRebuiltOnStart) {
  for (int n = 1; n <= 150; ++n) Commit(v1::Ticket(), RandomTicket(n));
  // Back to what the previous layout had: its keys, no listing keys, no layout mark.
  rocksdb::WriteBatch batch;
  rocksdb::ColumnFamilyHandle* index = db_->Family(TicketStore::kIndex);
  batch.DeleteRange(index, "l/", "l/\xff");
  batch.Put(index, "s/03/T20240926-000001", "");
  batch.Put(index, "ct/00000000000000000001/T20240926-000001", "");
  batch.Delete(db_->Family(TicketStore::kMeta), "listing_layout");
  ASSERT_TRUE(db_->Write(&batch).ok());
  Close();
  Open();
  CheckRandomRequests(100);
  int old_keys = 0;
  for (const char* prefix : {"s/", "ct/"}) {
    ASSERT_TRUE(
        store_->ScanIndex(prefix, [&](absl::string_view) { return ++old_keys, true; }).ok());
  }
  EXPECT_EQ(old_keys, 0);
}

}  // namespace
}  // namespace hotline::ticket
