// Property: on a random history of thousands of tickets driven through the real ticket service
// (manual clock, deadline warnings, every kind of transition), published to a real Redis by the
// real outbox relay, the figures the metrics service computes live from the stream equal a
// rebuild from the ticket service's event log and a direct count from the tickets themselves,
// for many windows (days, weeks, months, ranges that cut days, the current period), filters and
// groupings; and so do the trend, the overdue list and department-scoped answers.
#include <glog/logging.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "services/metrics/metrics_test_world.h"
#include "services/metrics/rebuild.h"
#include "services/metrics/ticket_facts.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_util.h"

namespace hotline::metrics::testing {
namespace {

using google::protobuf::util::MessageDifferencer;
using hotline::testing::ContextWithToken;

struct Query {
  std::string name;
  mv1::GetSummaryRequest request;
};

google::protobuf::Timestamp Proto(absl::Time t) { return MicrosToProto(absl::ToUnixMicros(t)); }
absl::Time TimeOf(const google::protobuf::Timestamp& t) {
  return absl::FromUnixMicros(ToMicros(t));
}

std::vector<Query> Queries(absl::Time begin, absl::Time now) {
  struct WindowSpec {
    std::string name;
    std::function<void(mv1::GetSummaryRequest*)> set;
  };
  std::vector<WindowSpec> windows;
  const std::vector<std::pair<std::string, absl::Time>> instants = {
      {"now", now},
      {"now-1d", now - absl::Hours(24)},
      {"now-4d", now - absl::Hours(96)},
      {"begin+2d", begin + absl::Hours(48)},
      {"begin+9d", begin + absl::Hours(24 * 9)},
      {"begin+24d", begin + absl::Hours(24 * 24)},
      {"begin+31d", begin + absl::Hours(24 * 31)}};
  for (const auto& [label, at] : instants) {
    for (mv1::PeriodKind kind :
         {mv1::PERIOD_KIND_DAY, mv1::PERIOD_KIND_WEEK, mv1::PERIOD_KIND_MONTH}) {
      windows.push_back({absl::StrCat(mv1::PeriodKind_Name(kind), "@", label),
                         [kind = kind, at = at](mv1::GetSummaryRequest* r) {
                           r->mutable_period()->set_kind(kind);
                           *r->mutable_period()->mutable_at() = Proto(at);
                         }});
    }
  }
  auto range = [&](std::string name, absl::Time start, absl::Time end) {
    windows.push_back({std::move(name), [start, end](mv1::GetSummaryRequest* r) {
                         *r->mutable_range()->mutable_start() = Proto(start);
                         *r->mutable_range()->mutable_end() = Proto(end);
                       }});
  };
  range("range cutting days", begin + absl::Hours(24 * 3 + 5) + absl::Minutes(17),
        begin + absl::Hours(24 * 9 + 13));
  range("range around now", now - absl::Hours(51) - absl::Minutes(7), now + absl::Hours(5));
  range("whole history", begin - absl::Hours(24), now);
  range("across a midnight", begin + absl::Hours(24 * 12 + 14) + absl::Minutes(59),
        begin + absl::Hours(24 * 12 + 15) + absl::Minutes(1));

  struct FilterSpec {
    std::string name;
    std::function<void(mv1::MetricsFilter*)> set;
  };
  const std::vector<FilterSpec> filters = {
      {"all", [](mv1::MetricsFilter*) {}},
      {"water", [](mv1::MetricsFilter* f) { f->add_department_ids("water"); }},
      {"hrss+housing",
       [](mv1::MetricsFilter* f) {
         f->add_department_ids("hrss");
         f->add_department_ids("housing");
       }},
      {"城乡建设", [](mv1::MetricsFilter* f) { f->set_category_prefix("城乡建设"); }},
      {"城乡建设/物业管理/",
       [](mv1::MetricsFilter* f) { f->set_category_prefix("城乡建设/物业管理/"); }},
      {"hotline+web",
       [](mv1::MetricsFilter* f) {
         f->add_channels(mv1::CHANNEL_HOTLINE);
         f->add_channels(mv1::CHANNEL_WEB);
       }},
      {"water+hotline+城乡建设", [](mv1::MetricsFilter* f) {
         f->add_department_ids("water");
         f->add_channels(mv1::CHANNEL_HOTLINE);
         f->set_category_prefix("城乡建设");
       }}};
  struct GroupSpec {
    mv1::Dimension dimension;
    int depth;
  };
  const std::vector<GroupSpec> all_groups = {{mv1::DIMENSION_UNSPECIFIED, 0},
                                             {mv1::DIMENSION_DEPARTMENT, 0},
                                             {mv1::DIMENSION_CATEGORY, 0},
                                             {mv1::DIMENSION_CATEGORY, 2},
                                             {mv1::DIMENSION_CHANNEL, 0}};
  std::vector<Query> out;
  for (const WindowSpec& w : windows) {
    for (size_t f = 0; f < filters.size(); ++f) {
      for (const GroupSpec& g : all_groups) {
        // Every grouping for the unfiltered figures; totals and departments otherwise.
        if (f > 0 && g.dimension != mv1::DIMENSION_UNSPECIFIED &&
            g.dimension != mv1::DIMENSION_DEPARTMENT) {
          continue;
        }
        Query q;
        q.name = absl::StrCat(w.name, " / ", filters[f].name, " / ",
                              mv1::Dimension_Name(g.dimension), ":", g.depth);
        w.set(&q.request);
        filters[f].set(q.request.mutable_filter());
        q.request.set_group_by(g.dimension);
        q.request.set_category_depth(g.depth);
        out.push_back(std::move(q));
      }
    }
  }
  return out;
}

DirectQuery ToDirect(const mv1::GetSummaryRequest& r, const mv1::Period& period, absl::Time now) {
  DirectQuery q;
  q.start = TimeOf(period.start());
  q.end = TimeOf(period.end());
  q.now = now;
  q.departments.assign(r.filter().department_ids().begin(), r.filter().department_ids().end());
  q.category_prefix = r.filter().category_prefix();
  if (!q.category_prefix.empty() && q.category_prefix.back() == '/') q.category_prefix.pop_back();
  for (int c : r.filter().channels()) q.channels.push_back(c);
  q.group_by = r.group_by();
  int prefix_depth =
      q.category_prefix.empty()
          ? 0
          : static_cast<int>(std::count(q.category_prefix.begin(), q.category_prefix.end(), '/')) +
                1;
  q.category_depth = r.category_depth() == 0 ? prefix_depth + 1 : r.category_depth();
  return q;
}

void ExpectMatchesDirect(const mv1::GetSummaryResponse& got, const DirectResult& expected,
                         const std::string& name) {
  EXPECT_EQ(FiguresDiff(expected.totals, got.totals()), "") << name << ": totals";
  std::map<std::string, mv1::Figures> rows;
  for (const mv1::SummaryRow& row : got.rows()) rows[RowKeyText(row.key())] = row.figures();
  std::vector<std::string> expected_keys, got_keys;
  for (const auto& [key, unused] : expected.rows) expected_keys.push_back(key);
  for (const auto& [key, unused] : rows) got_keys.push_back(key);
  EXPECT_EQ(expected_keys, got_keys) << name << ": row keys";
  for (const auto& [key, figures] : expected.rows) {
    auto it = rows.find(key);
    if (it == rows.end()) continue;
    EXPECT_EQ(FiguresDiff(figures, it->second), "") << name << ": row " << key;
  }
}

mv1::GetSummaryResponse Summary(mv1::MetricsService::Stub& stub, const mv1::GetSummaryRequest& r,
                                const std::string& token = "supervisor") {
  mv1::GetSummaryResponse out;
  grpc::Status s = stub.GetSummary(ContextWithToken(token).get(), r, &out);
  EXPECT_TRUE(s.ok()) << s.error_message() << " for " << r.ShortDebugString();
  return out;
}

std::vector<mv1::OverdueItem> AllOverdue(mv1::MetricsService::Stub& stub, int page_size,
                                         int* total) {
  std::vector<mv1::OverdueItem> items;
  mv1::ListOverdueRequest request;
  request.set_page_size(page_size);
  while (true) {
    mv1::ListOverdueResponse page;
    grpc::Status s = stub.ListOverdue(ContextWithToken("supervisor").get(), request, &page);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!s.ok()) break;
    *total = page.total_size();
    items.insert(items.end(), page.items().begin(), page.items().end());
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  return items;
}

TEST(MetricsPropertyTest, LiveEqualsRebuildEqualsDirectCountOnARandomHistory) {
  hotline::testing::TempDir dir;
  std::filesystem::create_directories(dir.Sub("redis"));
  // No append-only file: Redis durability is the failure test's subject, and fsyncing every
  // XADD would make the relay the slowest part of this test.
  hotline::testing::RedisServer redis(dir.Sub("redis"), /*appendonly=*/false);
  ASSERT_TRUE(redis.Start().ok());
  // From just before the National Day holiday, so deadlines cross holidays and make-up days.
  ManualClock clock(Shanghai(2024, 9, 2, 9));
  const absl::Time begin = clock.Now();
  TicketWorld world(dir.Sub("tickets"), &clock);
  world.StartRelay(redis.address());
  MetricsNode live(dir.Sub("live"), &clock, world.calendar(), world.config(), redis.address());

  HistoryOptions options;
  options.tickets = 2000;
  options.rounds = 240;
  options.seed = 20241001;
  HistoryDriver driver(&world, options);
  absl::Time started = absl::Now();
  driver.Run(0, driver.rounds());
  LOG(INFO) << "history driven in " << absl::Now() - started;
  const int64_t head = world.store().committed_sequence();
  ASSERT_TRUE(hotline::testing::WaitFor(
      [&] { return live.aggregates().last_applied_sequence() == head; }, absl::Seconds(180)))
      << "live consumer at " << live.aggregates().last_applied_sequence() << " of " << head;

  LOG(INFO) << "consumer caught up " << absl::Now() - started << " after the history began";

  // The history has every kind of event the figures depend on.
  std::map<int, int> types;
  int withdrawn = 0, closed_cancellations = 0;
  std::map<int, int> callbacks;
  ASSERT_TRUE(world.store()
                  .ScanAllEvents(0,
                                 [&](const tv1::TicketEvent& e) {
                                   ++types[e.type()];
                                   if (e.type() == tv1::EVENT_TYPE_WORK_ORDER_CANCELLED) {
                                     (e.ticket_state() == tv1::TICKET_STATE_CLOSED
                                          ? closed_cancellations
                                          : withdrawn)++;
                                   }
                                   if (e.type() == tv1::EVENT_TYPE_CALLBACK_RECORDED) {
                                     ++callbacks[e.callback().result()];
                                   }
                                   return true;
                                 })
                  .ok());
  for (tv1::EventType type :
       {tv1::EVENT_TYPE_TICKET_REJECTED, tv1::EVENT_TYPE_TICKET_MERGED,
        tv1::EVENT_TYPE_WORK_ORDER_RETURNED, tv1::EVENT_TYPE_WORK_ORDER_REDISPATCHED,
        tv1::EVENT_TYPE_RETURN_REFUSED, tv1::EVENT_TYPE_EXTENSION_APPROVED,
        tv1::EVENT_TYPE_EXTENSION_REFUSED, tv1::EVENT_TYPE_EXTENSION_WITHDRAWN,
        tv1::EVENT_TYPE_URGED, tv1::EVENT_TYPE_YELLOW_WARNING, tv1::EVENT_TYPE_RED_WARNING,
        tv1::EVENT_TYPE_TICKET_CLOSED, tv1::EVENT_TYPE_TICKET_REOPENED}) {
    EXPECT_GT(types[type], 0) << tv1::EventType_Name(type);
  }
  EXPECT_GT(withdrawn, 0);
  EXPECT_GT(closed_cancellations, 0);
  for (int result = 1; result <= 5; ++result) EXPECT_GT(callbacks[result], 0) << result;
  LOG(INFO) << head << " events from " << driver.calls() << " calls";

  // A rebuild from the ticket service's own event log, into a fresh store.
  MetricsNode rebuilt(dir.Sub("rebuilt"), &clock, world.calendar(), world.config());
  absl::StatusOr<int64_t> applied =
      Rebuild([&](const auto& visit) { return world.store().ScanAllEvents(0, visit); },
              &rebuilt.aggregates(), 1000);
  ASSERT_TRUE(applied.ok()) << applied.status();
  LOG(INFO) << "rebuilt " << *applied << " events";
  EXPECT_EQ(rebuilt.aggregates().last_applied_sequence(), head);

  const std::vector<tv1::Ticket> tickets = world.AllTickets();
  LOG(INFO) << tickets.size() << " tickets read back";
  const absl::Time now = clock.Now();
  int compared = 0;
  for (const Query& q : Queries(begin, now)) {
    mv1::GetSummaryResponse a = Summary(live.stub(), q.request);
    mv1::GetSummaryResponse b = Summary(rebuilt.stub(), q.request);
    EXPECT_TRUE(MessageDifferencer::Equals(a, b))
        << q.name << "\nlive:    " << a.ShortDebugString() << "\nrebuilt: " << b.ShortDebugString();
    ExpectMatchesDirect(
        a, DirectCount(tickets, *world.calendar(), ToDirect(q.request, a.period(), now)), q.name);
    ++compared;
    if (::testing::Test::HasFailure() && compared > 3) break;  // Keep the output readable.
  }

  // The whole history is not trivially empty.
  mv1::GetSummaryRequest whole;
  *whole.mutable_range()->mutable_start() = Proto(begin - absl::Hours(24));
  *whole.mutable_range()->mutable_end() = Proto(now);
  mv1::Figures all = Summary(live.stub(), whole).totals();
  EXPECT_GT(all.on_time_completion_rate().denominator(), 1000);
  EXPECT_GT(all.on_time_completion_rate().denominator(), all.on_time_completion_rate().numerator());
  EXPECT_GT(all.on_time_completion_rate().numerator(), 0);
  EXPECT_GT(all.callback_satisfaction_rate().denominator(), 500);
  EXPECT_GT(all.callbacks_unreachable(), 0);
  EXPECT_GT(all.return_rate().numerator(), 0);
  EXPECT_GT(all.reopen_rate().numerator(), 0);
  EXPECT_GT(all.timely_signing_rate().denominator(), all.timely_signing_rate().numerator());
  EXPECT_GT(all.backlog().open_total(), 0);

  // Trends: equal to the rebuild, and each point to the direct count of its period.
  for (mv1::PeriodKind kind :
       {mv1::PERIOD_KIND_DAY, mv1::PERIOD_KIND_WEEK, mv1::PERIOD_KIND_MONTH}) {
    mv1::GetTrendRequest request;
    request.set_period_kind(kind);
    request.set_period_count(kind == mv1::PERIOD_KIND_DAY ? 45 : 8);
    mv1::GetTrendResponse a, b;
    ASSERT_TRUE(live.stub().GetTrend(ContextWithToken("supervisor").get(), request, &a).ok());
    ASSERT_TRUE(rebuilt.stub().GetTrend(ContextWithToken("supervisor").get(), request, &b).ok());
    EXPECT_TRUE(MessageDifferencer::Equals(a, b)) << mv1::PeriodKind_Name(kind);
    ASSERT_EQ(a.points_size(), request.period_count());
    for (const mv1::TrendPoint& point : a.points()) {
      DirectQuery q;
      q.start = TimeOf(point.period().start());
      q.end = TimeOf(point.period().end());
      q.now = now;
      EXPECT_EQ(FiguresDiff(DirectCount(tickets, *world.calendar(), q).totals, point.figures()), "")
          << "trend point " << point.period().label();
    }
  }

  // The overdue list: every open work order with a card, by deadline then id, paged.
  int live_total = 0, rebuilt_total = 0;
  std::vector<mv1::OverdueItem> overdue = AllOverdue(live.stub(), 37, &live_total);
  std::vector<mv1::OverdueItem> overdue_rebuilt = AllOverdue(rebuilt.stub(), 500, &rebuilt_total);
  std::vector<std::pair<int64_t, std::string>> expected;
  for (const tv1::Ticket& t : tickets) {
    for (const tv1::WorkOrder& w : t.work_orders()) {
      bool open = w.state() == tv1::WORK_ORDER_STATE_PENDING_SIGN ||
                  w.state() == tv1::WORK_ORDER_STATE_SIGNED ||
                  w.state() == tv1::WORK_ORDER_STATE_RETURNED;
      if (open && (w.warning_level() == tv1::WARNING_LEVEL_YELLOW ||
                   w.warning_level() == tv1::WARNING_LEVEL_RED)) {
        expected.emplace_back(ToMicros(w.deadline()), w.id());
      }
    }
  }
  std::sort(expected.begin(), expected.end());
  ASSERT_EQ(overdue.size(), expected.size());
  EXPECT_EQ(live_total, static_cast<int>(expected.size()));
  EXPECT_EQ(rebuilt_total, live_total);
  ASSERT_EQ(overdue_rebuilt.size(), overdue.size());
  for (size_t i = 0; i < overdue.size(); ++i) {
    EXPECT_EQ(overdue[i].work_order_id(), expected[i].second) << i;
    EXPECT_TRUE(MessageDifferencer::Equals(overdue[i], overdue_rebuilt[i])) << i;
  }
  EXPECT_GT(overdue.size(), 0u);

  // A department's own view equals a supervisor's view filtered to it; others are refused.
  mv1::GetSummaryRequest month;
  month.mutable_period()->set_kind(mv1::PERIOD_KIND_MONTH);
  *month.mutable_period()->mutable_at() = Proto(begin + absl::Hours(24 * 31));
  month.set_group_by(mv1::DIMENSION_CATEGORY);
  mv1::GetSummaryResponse own = Summary(live.stub(), month, "water");
  mv1::GetSummaryRequest filtered = month;
  filtered.mutable_filter()->add_department_ids("water");
  EXPECT_TRUE(MessageDifferencer::Equals(own, Summary(live.stub(), filtered)));
  mv1::GetSummaryRequest other = month;
  other.mutable_filter()->add_department_ids("hrss");
  mv1::GetSummaryResponse refused;
  EXPECT_EQ(live.stub().GetSummary(ContextWithToken("water").get(), other, &refused).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace hotline::metrics::testing
