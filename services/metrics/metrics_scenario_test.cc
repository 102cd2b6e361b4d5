// A small fixed scenario written out step by step, with every rate computed by hand; the
// dashboard stream; and the API's error contract. The ticket service runs in process on a
// manual clock and its events are applied straight from its event log.
//
// October 2024 in Shanghai: Monday 14 to Sunday 20 is ISO week 42, Monday 21 to Sunday 27 is
// week 43; no holidays (the National Day make-up days were 29 September and 12 October).
// Consultations have 3 working days; signing 1 working day; a working-day deadline is the end
// (23:59:59.999999) of its last day.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "services/metrics/metrics_test_world.h"
#include "services/metrics/ticket_facts.h"
#include "tests/support/test_util.h"

namespace hotline::metrics::testing {
namespace {

using hotline::testing::ContextWithToken;

google::protobuf::Timestamp Proto(absl::Time t) { return MicrosToProto(absl::ToUnixMicros(t)); }

void ExpectRate(const mv1::Rate& rate, int64_t numerator, int64_t denominator,
                const std::string& what) {
  EXPECT_EQ(rate.numerator(), numerator) << what;
  EXPECT_EQ(rate.denominator(), denominator) << what;
  EXPECT_EQ(rate.has_value(), denominator > 0) << what;
  if (denominator > 0) {
    EXPECT_DOUBLE_EQ(rate.value(), static_cast<double>(numerator) / denominator) << what;
  }
}

class MetricsScenarioTest : public ::testing::Test {
 protected:
  MetricsScenarioTest()
      : clock_(Shanghai(2024, 10, 14, 9)),
        world_(dir_.Sub("tickets"), &clock_),
        metrics_(dir_.Sub("metrics"), &clock_, world_.calendar(), world_.config()) {}

  void At(int day, int hour, int minute = 0) { clock_.Set(Shanghai(2024, 10, day, hour, minute)); }

  // Applies every event the ticket service has recorded since the last call.
  void Sync() {
    std::vector<tv1::TicketEvent> events;
    ASSERT_TRUE(world_.store()
                    .ScanAllEvents(metrics_.aggregates().last_applied_sequence(),
                                   [&](const tv1::TicketEvent& e) {
                                     events.push_back(e);
                                     return true;
                                   })
                    .ok());
    ASSERT_TRUE(metrics_.aggregates().Apply(events).ok());
  }

  tv1::Ticket Dispatched(tv1::Channel channel, const std::string& category,
                         const std::string& department) {
    tv1::Ticket t;
    EXPECT_TRUE(world_.Create(&t, tv1::TICKET_KIND_CONSULTATION, channel, category).ok());
    EXPECT_TRUE(world_.Confirm(&t).ok());
    EXPECT_TRUE(world_.Dispatch(&t, department).ok());
    return t;
  }

  mv1::GetSummaryResponse Summary(mv1::PeriodKind kind, absl::Time at,
                                  mv1::Dimension group_by = mv1::DIMENSION_UNSPECIFIED,
                                  const std::string& token = "supervisor") {
    mv1::GetSummaryRequest request;
    request.mutable_period()->set_kind(kind);
    *request.mutable_period()->mutable_at() = Proto(at);
    request.set_group_by(group_by);
    mv1::GetSummaryResponse response;
    grpc::Status s = metrics_.stub().GetSummary(ContextWithToken(token).get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  mv1::ListOverdueResponse Overdue(const std::string& token = "supervisor") {
    mv1::ListOverdueResponse response;
    grpc::Status s = metrics_.stub().ListOverdue(ContextWithToken(token).get(),
                                                 mv1::ListOverdueRequest(), &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  hotline::testing::TempDir dir_;
  ManualClock clock_;
  TicketWorld world_;
  MetricsNode metrics_;
};

TEST_F(MetricsScenarioTest, HandComputedRatesWithAnExtensionAnUnreachableCallbackAndAReopen) {
  // Monday 14, 09:00: three consultations, deadline the end of Thursday 17, signing by the end
  // of Tuesday 15.
  At(14, 9);
  tv1::Ticket t1 = Dispatched(tv1::CHANNEL_HOTLINE, "城乡建设/供水", "water");
  tv1::Ticket t2 = Dispatched(tv1::CHANNEL_WEB, "城乡建设/物业管理", "housing");
  tv1::Ticket t3 = Dispatched(tv1::CHANNEL_HOTLINE, "社会保障/医保", "hrss");
  const std::string t1w = TicketWorld::OrderOf(t1, "water");
  const std::string t2w = TicketWorld::OrderOf(t2, "housing");
  const std::string t3w1 = TicketWorld::OrderOf(t3, "hrss");
  At(14, 10);
  ASSERT_TRUE(world_.Sign(&t1, t1w).ok());  // In time.
  // Tuesday 15, 09:00: a fourth, by the mayor's mailbox; deadline Friday 18, signing Wednesday 16.
  At(15, 9);
  tv1::Ticket t4 = Dispatched(tv1::CHANNEL_MAYOR_MAILBOX, "城乡建设/供水", "water");
  At(15, 20);
  ASSERT_TRUE(world_.Sign(&t2, t2w).ok());  // In time, just.
  // Wednesday 16: a fifth, misrouted to housing; hrss signs a day late.
  At(16, 9);
  tv1::Ticket t5 = Dispatched(tv1::CHANNEL_HOTLINE, "城乡建设/供水", "housing");
  ASSERT_TRUE(world_.Sign(&t3, t3w1).ok());  // Late.
  At(16, 10);
  ASSERT_TRUE(world_.Return(&t5, TicketWorld::OrderOf(t5, "housing")).ok());
  ASSERT_TRUE(world_.RequestExtension(&t2, t2w, 2).ok());  // To the end of Monday 21.
  At(16, 11);
  ASSERT_TRUE(world_.Redispatch(&t5, TicketWorld::OrderOf(t5, "housing"), "water").ok());
  const std::string t5w = TicketWorld::OrderOf(t5, "water");  // Deadline Monday 21.
  At(16, 12);
  ASSERT_TRUE(world_.Sign(&t5, t5w).ok());
  At(16, 15);
  ASSERT_TRUE(world_.Reply(&t1, t1w).ok());  // On time: 15+24+15 = 54 h.
  At(17, 10);
  ASSERT_TRUE(world_.Callback(&t1, tv1::CALLBACK_RESULT_SATISFIED).ok());
  ASSERT_TRUE(world_.Reply(&t5, t5w).ok());  // On time: 13+10 = 23 h.
  At(17, 15);
  ASSERT_TRUE(world_.Callback(&t5, tv1::CALLBACK_RESULT_SATISFIED).ok());

  // Friday 18, 08:00: Thursday's deadlines have passed; t2 (extension still undecided) and t3
  // count in week 42's denominator, not in its numerator.
  At(18, 8);
  ASSERT_TRUE(world_.service().RunDueWarnings().ok());
  Sync();
  // The warnings changed the tickets (and their versions).
  for (tv1::Ticket* t : {&t2, &t3, &t4}) ASSERT_TRUE(world_.Refresh(t).ok());
  const absl::Time week42 = Shanghai(2024, 10, 16, 12);
  ExpectRate(Summary(mv1::PERIOD_KIND_WEEK, week42).totals().on_time_completion_rate(), 1, 3,
             "week 42 before the extension is approved");
  // The yellow card of t4 (one working day before its deadline) and red cards of t2 and t3.
  mv1::ListOverdueResponse overdue = Overdue();
  ASSERT_EQ(overdue.items_size(), 3);
  EXPECT_EQ(overdue.items(2).work_order_id(), TicketWorld::OrderOf(t4, "water"));
  EXPECT_EQ(overdue.items(2).warning_level(), mv1::WARNING_LEVEL_YELLOW);

  // 08:30: the extension is approved after the original deadline: t2's cycle moves to the week
  // of its new deadline (Monday 21), where it does not count until replied.
  At(18, 8, 30);
  ASSERT_TRUE(world_.DecideExtension(&t2, t2w, /*approve=*/true).ok());
  Sync();
  ExpectRate(Summary(mv1::PERIOD_KIND_WEEK, week42).totals().on_time_completion_rate(), 1, 2,
             "week 42 after the extension is approved");
  EXPECT_EQ(Overdue().items_size(), 2);

  At(18, 9);
  ASSERT_TRUE(world_.Reply(&t3, t3w1).ok());  // Late: 15+72+9 = 96 h.
  At(18, 10);
  ASSERT_TRUE(world_.Reply(&t2, t2w).ok());  // On time: 15+72+10 = 97 h.
  At(18, 11);
  // Dissatisfied: reopened for a new cycle, deadline Wednesday 23, signing Monday 21.
  ASSERT_TRUE(world_.Callback(&t3, tv1::CALLBACK_RESULT_DISSATISFIED).ok());
  const std::string t3w2 = TicketWorld::OrderOf(t3, "hrss");
  ASSERT_NE(t3w2, t3w1);
  At(18, 12);
  ASSERT_TRUE(world_.Sign(&t3, t3w2).ok());
  At(18, 16);
  ASSERT_TRUE(world_.Callback(&t2, tv1::CALLBACK_RESULT_UNREACHABLE).ok());
  At(21, 10);
  ASSERT_TRUE(world_.Callback(&t2, tv1::CALLBACK_RESULT_BASICALLY_SATISFIED).ok());
  At(22, 10);
  ASSERT_TRUE(world_.Reply(&t3, t3w2).ok());  // On time: 13+24+10 = 47 h.
  At(22, 15);
  ASSERT_TRUE(world_.Callback(&t3, tv1::CALLBACK_RESULT_SATISFIED).ok());
  // t4 was never signed: red since Friday 18 ended.
  At(25, 12);
  ASSERT_TRUE(world_.service().RunDueWarnings().ok());
  Sync();

  // October. Cycles due: t1, t2 (extended), t3 first (late), t3 second, t4 (open, overdue),
  // t5 at water (t5 at housing was returned: it counts only in the return rate).
  mv1::GetSummaryResponse month = Summary(mv1::PERIOD_KIND_MONTH, Shanghai(2024, 10, 25, 12));
  EXPECT_EQ(month.period().label(), "2024-10");
  EXPECT_FALSE(month.period().ended());
  const mv1::Figures& f = month.totals();
  ExpectRate(f.on_time_completion_rate(), 4, 6, "on-time completion");
  ExpectRate(f.completion_rate(), 5, 6, "completion");
  // Callbacks: t1 satisfied, t2 unreachable then basically satisfied, t3 dissatisfied then
  // satisfied, t5 satisfied. The unreachable one is left out.
  ExpectRate(f.callback_satisfaction_rate(), 4, 5, "callback satisfaction");
  EXPECT_EQ(f.callbacks_unreachable(), 1);
  // Signing: late for t3's first cycle, never for t4; t5 at housing (returned unsigned) is out.
  ExpectRate(f.timely_signing_rate(), 4, 6, "timely signing");
  ExpectRate(f.return_rate(), 1, 7, "return");
  ExpectRate(f.reopen_rate(), 1, 5, "reopen");
  EXPECT_EQ(f.average_handling_time().count(), 5);
  EXPECT_NEAR(f.average_handling_time().total_working_hours(), 54 + 97 + 96 + 47 + 23, 1e-6);
  EXPECT_NEAR(f.average_handling_time().average_working_hours(), 317.0 / 5, 1e-6);
  ASSERT_EQ(f.backlog().by_state_size(), 1);
  EXPECT_EQ(f.backlog().by_state(0).state(), mv1::WORK_ORDER_STATE_AWAITING_SIGN);
  EXPECT_EQ(f.backlog().by_state(0).count(), 1);
  EXPECT_EQ(f.backlog().open_total(), 1);
  EXPECT_EQ(f.backlog().red_count(), 1);
  EXPECT_EQ(f.backlog().yellow_count(), 0);

  // The approved extension moved t2's cycle from week 42 to week 43.
  ExpectRate(Summary(mv1::PERIOD_KIND_WEEK, week42).totals().on_time_completion_rate(), 1, 3,
             "week 42: t1 on time, t3 late, t4 overdue");
  mv1::GetSummaryResponse week43 = Summary(mv1::PERIOD_KIND_WEEK, Shanghai(2024, 10, 22, 12));
  EXPECT_EQ(week43.period().label(), "2024-W43");
  ExpectRate(week43.totals().on_time_completion_rate(), 3, 3, "week 43: t2, t5 and t3 again");
  mv1::GetSummaryResponse thursday = Summary(mv1::PERIOD_KIND_DAY, Shanghai(2024, 10, 17, 12));
  EXPECT_EQ(thursday.period().label(), "2024-10-17");
  ExpectRate(thursday.totals().on_time_completion_rate(), 1, 2, "Thursday 17: t1 and t3");
  ExpectRate(thursday.totals().callback_satisfaction_rate(), 2, 2, "Thursday 17: t1 and t5");

  // By department; rows add up to the totals.
  mv1::GetSummaryResponse by_department =
      Summary(mv1::PERIOD_KIND_MONTH, Shanghai(2024, 10, 25, 12), mv1::DIMENSION_DEPARTMENT);
  // The hotline's own row (department "") comes first: the intake, for first-contact
  // resolution; none of these tickets was answered on the spot.
  ASSERT_EQ(by_department.rows_size(), 4);
  const mv1::SummaryRow& hotline = by_department.rows(0);
  EXPECT_EQ(hotline.key().department_id(), "");
  EXPECT_EQ(hotline.display_name(), "12345热线");
  ExpectRate(hotline.figures().first_contact_resolution_rate(), 0,
             by_department.totals().first_contact_resolution_rate().denominator(),
             "nothing answered on the spot");
  EXPECT_GT(hotline.figures().first_contact_resolution_rate().denominator(), 0);
  EXPECT_FALSE(hotline.figures().on_time_completion_rate().has_value());
  const mv1::SummaryRow& housing = by_department.rows(1);
  const mv1::SummaryRow& hrss = by_department.rows(2);
  const mv1::SummaryRow& water = by_department.rows(3);
  EXPECT_EQ(housing.key().department_id(), "housing");
  EXPECT_EQ(hrss.key().department_id(), "hrss");
  EXPECT_EQ(water.key().department_id(), "water");
  EXPECT_EQ(water.display_name(), "市水务局");
  ExpectRate(water.figures().on_time_completion_rate(), 2, 3, "water on time");
  ExpectRate(water.figures().callback_satisfaction_rate(), 2, 2, "water callbacks");
  ExpectRate(water.figures().timely_signing_rate(), 2, 3, "water signing");
  ExpectRate(water.figures().return_rate(), 0, 3, "water returns");
  EXPECT_NEAR(water.figures().average_handling_time().average_working_hours(), 77.0 / 2, 1e-6);
  EXPECT_EQ(water.figures().backlog().red_count(), 1);
  ExpectRate(housing.figures().on_time_completion_rate(), 1, 1, "housing on time");
  ExpectRate(housing.figures().callback_satisfaction_rate(), 1, 1, "housing callbacks");
  EXPECT_EQ(housing.figures().callbacks_unreachable(), 1);
  ExpectRate(housing.figures().return_rate(), 1, 2, "housing returns");
  ExpectRate(hrss.figures().on_time_completion_rate(), 1, 2, "hrss on time");
  ExpectRate(hrss.figures().callback_satisfaction_rate(), 1, 2, "hrss callbacks");
  ExpectRate(hrss.figures().timely_signing_rate(), 1, 2, "hrss signing");
  ExpectRate(hrss.figures().reopen_rate(), 1, 2, "hrss reopen");
  EXPECT_NEAR(hrss.figures().average_handling_time().average_working_hours(), 143.0 / 2, 1e-6);

  // A department token sees its own figures only.
  mv1::GetSummaryResponse own = Summary(mv1::PERIOD_KIND_MONTH, Shanghai(2024, 10, 25, 12),
                                        mv1::DIMENSION_DEPARTMENT, "water");
  ASSERT_EQ(own.rows_size(), 1);
  EXPECT_EQ(own.rows(0).key().department_id(), "water");
  ExpectRate(own.totals().on_time_completion_rate(), 2, 3, "water's own view");

  // The overdue list: t4 alone, red, overdue by Friday 18's last microsecond to Friday 25 noon;
  // in working hours Monday 21 to Thursday 24 and Friday 25 to noon (108 h).
  overdue = Overdue();
  ASSERT_EQ(overdue.items_size(), 1);
  EXPECT_EQ(overdue.total_size(), 1);
  const mv1::OverdueItem& item = overdue.items(0);
  EXPECT_EQ(item.ticket_id(), t4.id());
  EXPECT_EQ(item.department_id(), "water");
  EXPECT_TRUE(item.lead());
  EXPECT_EQ(item.channel(), mv1::CHANNEL_MAYOR_MAILBOX);
  EXPECT_EQ(item.state(), mv1::WORK_ORDER_STATE_AWAITING_SIGN);
  EXPECT_EQ(item.warning_level(), mv1::WARNING_LEVEL_RED);
  EXPECT_FALSE(item.extended());
  EXPECT_EQ(item.overdue_by().seconds(), (6 * 24 + 12) * 3600);
  EXPECT_NEAR(item.overdue_working_hours(), 108, 1e-6);
  EXPECT_EQ(Overdue("water").items_size(), 1);
  EXPECT_EQ(Overdue("housing").items_size(), 0);
}

// First-contact resolution (直接办结率): answered on the spot / created, by creation day,
// counted for the hotline itself, whatever happens to the tickets later.
TEST_F(MetricsScenarioTest, FirstContactResolutionCountsAnswersOnTheSpotAmongTicketsCreated) {
  // Monday 14: three consultations, two of them answered during the call.
  At(14, 9);
  tv1::Ticket answered, answered_too, dispatched;
  ASSERT_TRUE(world_
                  .Create(&answered, tv1::TICKET_KIND_CONSULTATION, tv1::CHANNEL_HOTLINE,
                          "住房保障/住房公积金", tv1::URGENCY_NORMAL, "13812345678",
                          /*answer_on_the_spot=*/true)
                  .ok());
  EXPECT_EQ(answered.state(), tv1::TICKET_STATE_CLOSED);
  ASSERT_TRUE(world_
                  .Create(&answered_too, tv1::TICKET_KIND_HELP_REQUEST, tv1::CHANNEL_WEB,
                          "社会保障/养老保险", tv1::URGENCY_NORMAL, "13812345678", true)
                  .ok());
  dispatched = Dispatched(tv1::CHANNEL_HOTLINE, "城乡建设/供水", "water");
  // Tuesday 15: one complaint, dispatched.
  At(15, 10);
  Dispatched(tv1::CHANNEL_HOTLINE, "城乡建设/供水", "water");
  At(15, 18);
  Sync();

  mv1::GetSummaryResponse monday = Summary(mv1::PERIOD_KIND_DAY, Shanghai(2024, 10, 14, 12));
  ExpectRate(monday.totals().first_contact_resolution_rate(), 2, 3, "Monday: 2 of 3 answered");
  mv1::GetSummaryResponse week = Summary(mv1::PERIOD_KIND_WEEK, Shanghai(2024, 10, 15, 12));
  ExpectRate(week.totals().first_contact_resolution_rate(), 2, 4, "week 42: 2 of 4");
  // By channel the rows add up to the totals: hotline 1 of 3, web 1 of 1.
  mv1::GetSummaryResponse by_channel =
      Summary(mv1::PERIOD_KIND_WEEK, Shanghai(2024, 10, 15, 12), mv1::DIMENSION_CHANNEL);
  ASSERT_EQ(by_channel.rows_size(), 2);
  for (const mv1::SummaryRow& row : by_channel.rows()) {
    if (row.key().channel() == mv1::CHANNEL_HOTLINE) {
      ExpectRate(row.figures().first_contact_resolution_rate(), 1, 3, "hotline channel");
    } else {
      ExpectRate(row.figures().first_contact_resolution_rate(), 1, 1, "web channel");
    }
  }
  // By department: the hotline's row holds it; the water bureau's own view has none.
  mv1::GetSummaryResponse by_department =
      Summary(mv1::PERIOD_KIND_WEEK, Shanghai(2024, 10, 15, 12), mv1::DIMENSION_DEPARTMENT);
  ASSERT_EQ(by_department.rows_size(), 2);
  EXPECT_EQ(by_department.rows(0).key().department_id(), "");
  ExpectRate(by_department.rows(0).figures().first_contact_resolution_rate(), 2, 4, "hotline row");
  ExpectRate(by_department.rows(1).figures().first_contact_resolution_rate(), 0, 0, "water row");
  mv1::GetSummaryResponse water = Summary(mv1::PERIOD_KIND_WEEK, Shanghai(2024, 10, 15, 12),
                                          mv1::DIMENSION_UNSPECIFIED, "water");
  ExpectRate(water.totals().first_contact_resolution_rate(), 0, 0, "a department's own view");

  // The daily trend: Monday 2/3, Tuesday 0/1.
  mv1::GetTrendRequest trend;
  trend.set_period_kind(mv1::PERIOD_KIND_DAY);
  trend.set_period_count(2);
  *trend.mutable_end_at() = Proto(clock_.Now());
  mv1::GetTrendResponse points;
  ASSERT_TRUE(metrics_.stub().GetTrend(ContextWithToken("supervisor").get(), trend, &points).ok());
  ASSERT_EQ(points.points_size(), 2);
  ExpectRate(points.points(0).figures().first_contact_resolution_rate(), 2, 3, "trend Monday");
  ExpectRate(points.points(1).figures().first_contact_resolution_rate(), 0, 1, "trend Tuesday");

  // A later reopen of an answered ticket does not change the day it was answered.
  At(16, 9);
  ASSERT_TRUE(world_.Reopen(&answered, "water").ok());
  Sync();
  ExpectRate(Summary(mv1::PERIOD_KIND_DAY, Shanghai(2024, 10, 14, 12))
                 .totals()
                 .first_contact_resolution_rate(),
             2, 3, "Monday after the reopen");
}

// A dashboard snapshot reads the store; while one is being computed, streams still open and
// are counted: the hub computes outside the lock that registers them.
TEST(MetricsHubTest, StreamsOpenWhileASnapshotIsBeingComputed) {
  hotline::testing::TempDir dir;
  ManualClock clock(Shanghai(2024, 10, 14, 9));
  TicketWorld world(dir.Sub("tickets"), &clock);
  absl::Notification computing, release;
  std::atomic<bool> hold{true};
  MetricsNode node(dir.Sub("metrics"), &clock, world.calendar(), world.config(), "", 64, nullptr,
                   [&](MetricsServiceOptions* options) {
                     options->before_dashboard_snapshot = [&] {
                       if (!hold.load()) return;
                       if (!computing.HasBeenNotified()) computing.Notify();
                       release.WaitForNotification();
                     };
                   });
  mv1::WatchDashboardRequest request;
  request.set_period_kind(mv1::PERIOD_KIND_DAY);
  auto first_context = ContextWithToken("supervisor");
  auto first = node.stub().WatchDashboard(first_context.get(), request);
  computing.WaitForNotification();  // The hub is inside the first stream's snapshot.
  auto second_context = ContextWithToken("supervisor");
  std::atomic<bool> counted{false};
  std::thread second([&] {
    auto stream = node.stub().WatchDashboard(second_context.get(), request);
    counted = hotline::testing::WaitFor([&] { return node.service().open_watch_streams() == 2; });
    second_context->TryCancel();
    mv1::DashboardSnapshot ignored;
    while (stream->Read(&ignored)) {
    }
    (void)stream->Finish();
  });
  const bool counted_while_computing =
      hotline::testing::WaitFor([&] { return counted.load(); }, absl::Seconds(5));
  hold = false;
  release.Notify();
  second.join();
  EXPECT_TRUE(counted_while_computing) << "a new stream waited for another's snapshot";
  first_context->TryCancel();
  mv1::DashboardSnapshot snapshot;
  while (first->Read(&snapshot)) {
  }
  (void)first->Finish();
}

TEST_F(MetricsScenarioTest, DashboardSendsInitialChangedHeartbeatAndRolloverSnapshots) {
  At(14, 9);
  tv1::Ticket t = Dispatched(tv1::CHANNEL_HOTLINE, "城乡建设/供水", "water");
  Sync();
  mv1::WatchDashboardRequest request;
  request.set_period_kind(mv1::PERIOD_KIND_MONTH);
  request.mutable_min_interval()->set_seconds(1);
  request.mutable_heartbeat_interval()->set_seconds(3);
  request.set_group_by(mv1::DIMENSION_DEPARTMENT);
  auto context = ContextWithToken("supervisor", absl::Seconds(30));
  auto stream = metrics_.stub().WatchDashboard(context.get(), request);
  mv1::DashboardSnapshot s;
  ASSERT_TRUE(stream->Read(&s));
  EXPECT_EQ(s.reason(), mv1::SNAPSHOT_REASON_INITIAL);
  EXPECT_EQ(s.snapshot_number(), 1);
  EXPECT_EQ(s.period().label(), "2024-10");
  EXPECT_EQ(s.totals().backlog().by_state(0).state(), mv1::WORK_ORDER_STATE_AWAITING_SIGN);

  // A change is held back until min_interval has passed since the last snapshot.
  ASSERT_TRUE(world_.Sign(&t, TicketWorld::OrderOf(t, "water")).ok());
  Sync();
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(stream->Read(&s));
  EXPECT_EQ(s.reason(), mv1::SNAPSHOT_REASON_CHANGED);
  EXPECT_EQ(s.snapshot_number(), 2);
  EXPECT_EQ(s.totals().backlog().by_state(0).state(), mv1::WORK_ORDER_STATE_IN_PROGRESS);
  ExpectRate(s.totals().timely_signing_rate(), 1, 1, "signed in time");
  EXPECT_EQ(s.data_version().last_applied_sequence(),
            metrics_.aggregates().last_applied_sequence());

  // Nothing changes: a heartbeat after heartbeat_interval.
  clock_.Advance(absl::Seconds(3));
  ASSERT_TRUE(stream->Read(&s));
  EXPECT_EQ(s.reason(), mv1::SNAPSHOT_REASON_HEARTBEAT);
  EXPECT_EQ(s.snapshot_number(), 3);

  // The month ends: a snapshot for November.
  clock_.Set(Shanghai(2024, 11, 1, 0, 1));
  ASSERT_TRUE(stream->Read(&s));
  EXPECT_EQ(s.reason(), mv1::SNAPSHOT_REASON_PERIOD_ROLLOVER);
  EXPECT_EQ(s.period().label(), "2024-11");
  context->TryCancel();
  stream->Finish().IgnoreError();

  // The stream's own errors come before any snapshot.
  request.mutable_min_interval()->set_seconds(601);
  auto bad_context = ContextWithToken("supervisor");
  auto bad = metrics_.stub().WatchDashboard(bad_context.get(), request);
  EXPECT_FALSE(bad->Read(&s));
  grpc::Status status = bad->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "min_interval must be at most 10m");
}

TEST_F(MetricsScenarioTest, ErrorsFollowTheContract) {
  auto summary = [&](const std::string& token, const mv1::GetSummaryRequest& r) {
    mv1::GetSummaryResponse response;
    return metrics_.stub().GetSummary(ContextWithToken(token).get(), r, &response);
  };
  mv1::GetSummaryRequest month;
  month.mutable_period()->set_kind(mv1::PERIOD_KIND_MONTH);
  EXPECT_EQ(summary("", month).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(summary("agent", month).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(summary("editor", month).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(summary("reviewer", month).ok());
  EXPECT_TRUE(summary("admin", month).ok());

  auto invalid = [&](mv1::GetSummaryRequest r, const std::string& message) {
    grpc::Status s = summary("supervisor", r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << message;
    EXPECT_EQ(s.error_message(), message);
  };
  invalid(mv1::GetSummaryRequest(), "window must be set");
  mv1::GetSummaryRequest r;
  r.mutable_period();
  invalid(r, "period.kind must be set");
  r = month;
  *r.mutable_period()->mutable_at() = Proto(clock_.Now() + absl::Hours(1));
  invalid(r, "period.at is in the future");
  r.Clear();
  *r.mutable_range()->mutable_start() = Proto(clock_.Now() - absl::Hours(1));
  *r.mutable_range()->mutable_end() = Proto(clock_.Now() - absl::Hours(2));
  invalid(r, "range.end must be after range.start");
  *r.mutable_range()->mutable_start() = Proto(clock_.Now() - absl::Hours(24 * 400));
  *r.mutable_range()->mutable_end() = Proto(clock_.Now());
  invalid(r, "range must not exceed 366 days");
  *r.mutable_range()->mutable_start() = Proto(clock_.Now() + absl::Hours(1));
  *r.mutable_range()->mutable_end() = Proto(clock_.Now() + absl::Hours(2));
  invalid(r, "range.start is in the future");
  r = month;
  r.mutable_filter()->add_channels(mv1::CHANNEL_UNSPECIFIED);
  invalid(r, "filter.channels[0]: must not be CHANNEL_UNSPECIFIED");
  r = month;
  r.mutable_filter()->add_department_ids("water");
  r.mutable_filter()->add_department_ids("");
  invalid(r, "filter.department_ids[1] must not be empty");
  r = month;
  r.set_category_depth(-1);
  invalid(r, "category_depth must not be negative");
  r = month;
  r.set_group_by(mv1::DIMENSION_CATEGORY);
  r.mutable_filter()->set_category_prefix("城乡建设/物业管理");
  r.set_category_depth(1);
  invalid(r, "category_depth must be at least the depth of filter.category_prefix");

  // A department may not name another department, nor read the consumer's status.
  r = month;
  r.mutable_filter()->add_department_ids("hrss");
  grpc::Status s = summary("water", r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("hrss"), std::string::npos);
  mv1::GetStatusResponse status;
  EXPECT_EQ(metrics_.stub().GetStatus(ContextWithToken("water").get(), {}, &status).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(metrics_.stub().GetStatus(ContextWithToken("reviewer").get(), {}, &status).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(metrics_.stub().GetStatus(ContextWithToken("supervisor").get(), {}, &status).ok());
  EXPECT_FALSE(status.calendar_version().empty());

  mv1::GetTrendRequest trend;
  mv1::GetTrendResponse trend_response;
  auto trend_error = [&](const mv1::GetTrendRequest& t) {
    return metrics_.stub().GetTrend(ContextWithToken("supervisor").get(), t, &trend_response);
  };
  EXPECT_EQ(trend_error(trend).error_message(), "period_kind must be set");
  trend.set_period_kind(mv1::PERIOD_KIND_DAY);
  trend.set_period_count(367);
  EXPECT_EQ(trend_error(trend).error_message(), "period_count must be at most 366");
  trend.set_period_count(-1);
  EXPECT_EQ(trend_error(trend).error_message(), "period_count must not be negative");
  trend.set_period_count(0);
  *trend.mutable_end_at() = Proto(clock_.Now() + absl::Hours(1));
  EXPECT_EQ(trend_error(trend).error_message(), "end_at is in the future");
  // Far outside what a Timestamp may hold: refused rather than given a nonsense label.
  trend.mutable_end_at()->set_seconds(-1000000000000000);
  EXPECT_EQ(trend_error(trend).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(trend_error(trend).error_message().rfind("end_at: seconds must be within", 0), 0u);
  trend.clear_end_at();
  ASSERT_TRUE(trend_error(trend).ok());
  EXPECT_EQ(trend_response.points_size(), 30);  // The default for days.

  mv1::ListOverdueRequest list;
  mv1::ListOverdueResponse list_response;
  list.set_page_size(-1);
  s = metrics_.stub().ListOverdue(ContextWithToken("supervisor").get(), list, &list_response);
  EXPECT_EQ(s.error_message(), "page_size must not be negative");
  list.set_page_size(0);
  list.add_warning_levels(mv1::WARNING_LEVEL_UNSPECIFIED);
  s = metrics_.stub().ListOverdue(ContextWithToken("supervisor").get(), list, &list_response);
  EXPECT_EQ(s.error_message(), "warning_levels[0]: must not be WARNING_LEVEL_UNSPECIFIED");
  list.clear_warning_levels();
  list.set_page_token("forged");
  s = metrics_.stub().ListOverdue(ContextWithToken("supervisor").get(), list, &list_response);
  EXPECT_EQ(s.error_message(),
            "page_token: invalid, expired or issued for a different request; start again from "
            "the first page");
}

}  // namespace
}  // namespace hotline::metrics::testing
