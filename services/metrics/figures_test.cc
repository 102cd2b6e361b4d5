// The counters' stored form and the declared figures: a counter is read back by its id
// whatever was added since, a row of the first format still reads, and every figure of
// metrics.proto is declared.
#include "services/metrics/figures.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "services/metrics/aggregates.h"

namespace hotline::metrics {
namespace {

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

TEST(CountersTest, RoundTripByIdKeepsEveryValue) {
  Counters c{};
  c[kOnTime] = 3;
  c[kBacklogInProgress] = -2;  // Backlog changes go negative.
  c[kAnsweredDirectly] = 1LL << 40;
  const std::string stored = EncodeCounters(c);
  Counters back;
  ASSERT_TRUE(DecodeCounters(stored, &back));
  EXPECT_EQ(back, c);
  // Only the fields that are not zero are stored.
  Counters zero{};
  EXPECT_EQ(EncodeCounters(zero).size(), 1u);
}

TEST(CountersTest, RowsOfTheFirstFormatReadByPosition) {
  // Version 1: every field by position, zigzag varints, as the store wrote before ids.
  std::string v1(1, '\x01');
  for (int f = 0; f <= kAnsweredDirectly; ++f) PutVarint(f == kCallbackGood ? 14 : 0, &v1);
  Counters c;
  ASSERT_TRUE(DecodeCounters(v1, &c));
  Counters expected{};
  expected[kCallbackGood] = 7;
  EXPECT_EQ(c, expected);
}

TEST(CountersTest, RowsThisBuildCannotReadFullyAreRefused) {
  Counters c;
  std::string unknown(1, '\x02');
  PutVarint(kFieldCount + 3, &unknown);  // An id from a newer build.
  PutVarint(2, &unknown);
  EXPECT_FALSE(DecodeCounters(unknown, &c));
  std::string truncated = EncodeCounters(Counters{5});
  truncated.pop_back();
  EXPECT_FALSE(DecodeCounters(truncated, &c));
  EXPECT_FALSE(DecodeCounters("", &c));
  EXPECT_FALSE(DecodeCounters("\x07", &c));
}

TEST(FieldSpecsTest, KindsComeFromTheTableNotFromIdRanges) {
  std::set<int> backlog(kBacklogFields.begin(), kBacklogFields.end());
  for (const FieldSpec& s : kFieldSpecs) {
    EXPECT_EQ(IsBacklogField(s.field), backlog.count(s.field) == 1) << s.name;
    EXPECT_EQ(IsBacklogField(s.field), s.kind == FieldKind::kBacklogChange) << s.name;
  }
  // The first-contact counters come after the backlog's ids and are not backlog.
  EXPECT_FALSE(IsBacklogField(kIntake));
  EXPECT_FALSE(IsBacklogField(kAnsweredDirectly));
  EXPECT_TRUE(IsOpenField(kSignOpen));
  EXPECT_EQ(kBacklogFields.size(), 7u);
}

TEST(FiguresTest, EveryFigureOfTheContractIsDeclaredOnce) {
  std::set<std::string> declared;
  for (const RateSpec& r : Rates()) EXPECT_TRUE(declared.insert(r.field).second) << r.field;
  for (const AverageSpec& a : Averages()) EXPECT_TRUE(declared.insert(a.field).second) << a.field;
  std::set<std::string> figures;
  const google::protobuf::Descriptor* d = v1::Figures::descriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    if (f->message_type() == nullptr || f->message_type() == v1::Backlog::descriptor()) continue;
    figures.insert(f->name());
  }
  EXPECT_EQ(declared, figures);
}

TEST(FiguresTest, RatesAndAveragesAreComposedFromTheirCounters) {
  Counters c{};
  c[kOnTime] = 6;
  c[kLate] = 2;
  c[kLapsed] = 1;
  c[kOpenByDeadline] = 1;
  c[kReplied] = 4;
  c[kHandlingMicros] = 4 * 36'000'000'000LL;  // 10 working hours each.
  c[kCallbackGood] = 3;
  c[kCallbackRated] = 4;
  c[kCallbackUnreachable] = 2;
  c[kBacklogInProgress] = 5;
  c[kBacklogAwaitingCallback] = 2;
  const v1::Figures f = FiguresFromCounters(c, absl::FromUnixSeconds(1700000000));
  EXPECT_EQ(f.on_time_completion_rate().numerator(), 6);
  EXPECT_EQ(f.on_time_completion_rate().denominator(), 10);
  EXPECT_DOUBLE_EQ(f.on_time_completion_rate().value(), 0.6);
  EXPECT_EQ(f.completion_rate().numerator(), 8);
  EXPECT_EQ(f.callback_satisfaction_rate().denominator(), 4);
  EXPECT_EQ(f.callbacks_unreachable(), 2);
  EXPECT_FALSE(f.return_rate().has_value());
  EXPECT_EQ(f.average_handling_time().count(), 4);
  EXPECT_TRUE(f.average_handling_time().has_average());
  EXPECT_DOUBLE_EQ(f.average_handling_time().average_working_hours(), 10);
  EXPECT_EQ(f.backlog().open_total(), 5);
  ASSERT_EQ(f.backlog().by_state_size(), 2);
}

TEST(FiguresTest, TheVocabularyScriptListsEveryRate) {
  const std::string script = VocabularyScript();
  EXPECT_NE(script.find("var HOTLINE_METRICS_VOCABULARY = "), std::string::npos);
  for (const RateSpec& r : Rates()) {
    EXPECT_NE(script.find(r.label), std::string::npos) << r.label;
    EXPECT_NE(script.find(r.field), std::string::npos) << r.field;
  }
}

}  // namespace
}  // namespace hotline::metrics
