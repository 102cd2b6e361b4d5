// The metrics store across a power cut, through a file system that drops whatever was not
// synced (tests/support/power_loss_fs.h): every batch of events the aggregates applied is still
// applied after the restart, and the consumer resumes from there to figures that equal a direct
// count over the tickets, exactly. The metrics acknowledge no client write; what they must not
// do is count an event twice or lose one, which a half-applied batch would.
#include <gtest/gtest.h>
#include <rocksdb/env.h>

#include "services/metrics/metrics_test_world.h"
#include "services/metrics/ticket_facts.h"
#include "tests/support/power_loss_fs.h"
#include "tests/support/test_util.h"

namespace hotline::metrics::testing {
namespace {

using hotline::testing::ContextWithToken;

// Applies the ticket service's events after the aggregates' last one, in batches.
void ApplyAll(TicketWorld& world, MetricsNode& node) {
  std::vector<tv1::TicketEvent> events;
  ASSERT_TRUE(world.store()
                  .ScanAllEvents(node.aggregates().last_applied_sequence(),
                                 [&](const tv1::TicketEvent& e) {
                                   events.push_back(e);
                                   return true;
                                 })
                  .ok());
  for (size_t i = 0; i < events.size(); i += 50) {
    std::vector<tv1::TicketEvent> batch(events.begin() + i,
                                        events.begin() + std::min(events.size(), i + 50));
    ASSERT_TRUE(node.aggregates().Apply(batch).ok());
  }
}

// A ticket service on the real disk and a metrics node whose store goes through the power-loss
// file system, with a random history driven through the tickets.
struct PowerLossWorld {
  explicit PowerLossWorld(HistoryOptions options)
      : clock(Shanghai(2024, 9, 2, 9)),
        begin(clock.Now()),
        world(dir.Sub("tickets"), &clock),
        fs(std::make_shared<hotline::testing::PowerLossFileSystem>()),
        env(rocksdb::NewCompositeEnv(fs)),
        driver(&world, options) {
    Open();
  }
  void Open() {
    node = std::make_unique<MetricsNode>(dir.Sub("metrics"), &clock, world.calendar(),
                                         world.config(), "", 64, env.get());
  }
  // The power goes with the store open; then the node starts again on what the disk kept.
  void PowerCutAndRestart() {
    fs->SetFailing(true, true);
    node.reset();
    fs->FailWritesAfter(-1);
    fs->PowerCut();
    fs->SetFailing(false, false);
    Open();
  }

  hotline::testing::TempDir dir;
  ManualClock clock;
  const absl::Time begin;
  TicketWorld world;
  std::shared_ptr<hotline::testing::PowerLossFileSystem> fs;
  std::unique_ptr<rocksdb::Env> env;
  HistoryDriver driver;
  std::unique_ptr<MetricsNode> node;
};

TEST(MetricsPowerLossTest, AppliedEventsSurviveAPowerCutAndTheConsumerResumesExactly) {
  HistoryOptions options;
  options.tickets = 200;
  options.rounds = 60;
  options.threads = 4;
  options.seed = 20241202;
  PowerLossWorld w(options);
  TicketWorld& world = w.world;
  HistoryDriver& driver = w.driver;
  ManualClock& clock = w.clock;
  const absl::Time begin = w.begin;
  driver.Run(0, 30);
  ApplyAll(world, *w.node);
  const int64_t applied = w.node->aggregates().last_applied_sequence();
  ASSERT_GT(applied, 100);

  w.PowerCutAndRestart();
  auto& node = w.node;
  EXPECT_EQ(node->aggregates().last_applied_sequence(), applied);

  // The consumer resumes where it was, and the figures are exact.
  driver.Run(30, driver.rounds());
  ApplyAll(world, *node);
  EXPECT_EQ(node->aggregates().last_applied_sequence(), world.store().committed_sequence());
  mv1::GetSummaryRequest whole;
  *whole.mutable_range()->mutable_start() =
      MicrosToProto(absl::ToUnixMicros(begin - absl::Hours(24)));
  *whole.mutable_range()->mutable_end() = MicrosToProto(absl::ToUnixMicros(clock.Now()));
  whole.set_group_by(mv1::DIMENSION_DEPARTMENT);
  mv1::GetSummaryResponse summary;
  ASSERT_TRUE(node->stub().GetSummary(ContextWithToken("supervisor").get(), whole, &summary).ok());
  DirectQuery q;
  q.start = begin - absl::Hours(24);
  q.end = clock.Now();
  q.now = clock.Now();
  q.group_by = mv1::DIMENSION_DEPARTMENT;
  DirectResult direct = DirectCount(world.AllTickets(), *world.calendar(), q);
  EXPECT_EQ(FiguresDiff(direct.totals, summary.totals()), "");
  EXPECT_GT(summary.totals().return_rate().denominator(), 50);
  EXPECT_GT(summary.totals().first_contact_resolution_rate().denominator(), 100);
  for (const mv1::SummaryRow& row : summary.rows()) {
    auto it = direct.rows.find(RowKeyText(row.key()));
    ASSERT_NE(it, direct.rows.end()) << RowKeyText(row.key());
    EXPECT_EQ(FiguresDiff(it->second, row.figures()), "") << RowKeyText(row.key());
  }
}

// A rebuild clears the store first. The disk dying in the middle of that must leave the store
// either as it was or empty, never figures without the facts and sequence behind them (which
// left a consumer that resumed from the old sequence over empty counters).
TEST(MetricsPowerLossTest, AClearCutShortByTheDiskLeavesTheStoreWholeOrEmpty) {
  HistoryOptions options;
  options.tickets = 80;
  options.rounds = 30;
  options.threads = 4;
  options.seed = 7;
  PowerLossWorld w(options);
  TicketWorld& world = w.world;
  HistoryDriver& driver = w.driver;
  ManualClock& clock = w.clock;
  const absl::Time begin = w.begin;
  auto& node = w.node;
  driver.Run(0, driver.rounds());
  ApplyAll(world, *node);
  const int64_t applied = node->aggregates().last_applied_sequence();
  ASSERT_GT(applied, 50);

  w.fs->FailWritesAfter(1);  // The disk takes one more write, then dies.
  (void)node->aggregates().Clear();
  w.PowerCutAndRestart();
  const int64_t after = node->aggregates().last_applied_sequence();
  EXPECT_TRUE(after == 0 || after == applied) << after;

  auto summary = [&] {
    mv1::GetSummaryRequest whole;
    *whole.mutable_range()->mutable_start() =
        MicrosToProto(absl::ToUnixMicros(begin - absl::Hours(24)));
    *whole.mutable_range()->mutable_end() = MicrosToProto(absl::ToUnixMicros(clock.Now()));
    mv1::GetSummaryResponse response;
    EXPECT_TRUE(
        node->stub().GetSummary(ContextWithToken("supervisor").get(), whole, &response).ok());
    return response.totals();
  };
  DirectQuery q;
  q.start = begin - absl::Hours(24);
  q.end = clock.Now();
  q.now = clock.Now();
  const mv1::Figures expected = DirectCount(world.AllTickets(), *world.calendar(), q).totals;
  if (after == applied) {
    EXPECT_EQ(FiguresDiff(expected, summary()), "") << "the store kept its sequence: whole";
  } else {
    EXPECT_EQ(summary().return_rate().denominator(), 0) << "the store is at 0: empty";
  }
  // Either way the consumer carries on to exact figures.
  ApplyAll(world, *node);
  EXPECT_EQ(FiguresDiff(expected, summary()), "");
}

// A stored fact that cannot be read is an error of the figures that need it, not an item
// quietly left out of them.
TEST(MetricsPowerLossTest, AnUnreadableFactMakesTheFiguresAnErrorNotAShortCount) {
  hotline::testing::TempDir dir;
  ManualClock clock(Shanghai(2024, 10, 14, 9));
  TicketWorld world(dir.Sub("tickets"), &clock);
  auto node =
      std::make_unique<MetricsNode>(dir.Sub("metrics"), &clock, world.calendar(), world.config());
  tv1::Ticket t;
  ASSERT_TRUE(
      world.Create(&t, tv1::TICKET_KIND_COMPLAINT, tv1::CHANNEL_HOTLINE, "城乡建设/供水").ok());
  ASSERT_TRUE(world.Confirm(&t).ok());
  ASSERT_TRUE(world.Dispatch(&t, "water").ok());
  clock.Set(Shanghai(2024, 10, 14, 18));
  ApplyAll(world, *node);
  // A window that cuts the day is counted from the facts themselves.
  mv1::GetSummaryRequest part;
  *part.mutable_range()->mutable_start() =
      MicrosToProto(absl::ToUnixMicros(Shanghai(2024, 10, 14, 8)));
  *part.mutable_range()->mutable_end() =
      MicrosToProto(absl::ToUnixMicros(Shanghai(2024, 10, 14, 12)));
  mv1::GetSummaryResponse summary;
  ASSERT_TRUE(node->stub().GetSummary(ContextWithToken("supervisor").get(), part, &summary).ok());
  EXPECT_EQ(summary.totals().return_rate().denominator(), 1);

  ASSERT_TRUE(node->store()
                  .Put(node->store().Family(Aggregates::kFacts), "f/" + t.id(), "not a fact")
                  .ok());
  node.reset();  // Restarted: the figures are read from the store as it is now.
  node =
      std::make_unique<MetricsNode>(dir.Sub("metrics"), &clock, world.calendar(), world.config());
  grpc::Status s = node->stub().GetSummary(ContextWithToken("supervisor").get(), part, &summary);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DATA_LOSS) << s.error_message();
  EXPECT_NE(s.error_message().find(t.id()), std::string::npos) << s.error_message();
}

}  // namespace
}  // namespace hotline::metrics::testing
