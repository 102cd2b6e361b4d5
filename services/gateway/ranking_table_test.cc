#include "services/gateway/ranking_table.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace hotline::gateway {
namespace {

namespace mv1 = ::hotline::metrics::v1;

void SetRate(mv1::Rate* rate, int64_t numerator, int64_t denominator) {
  rate->set_numerator(numerator);
  rate->set_denominator(denominator);
  rate->set_has_value(denominator > 0);
  rate->set_value(denominator > 0 ? static_cast<double>(numerator) / denominator : 0);
}

mv1::SummaryRow* Row(mv1::GetSummaryResponse* r, const std::string& id, const std::string& name,
                     int64_t on_time, int64_t due, int64_t returned = 0, int64_t dispatched = 0) {
  mv1::SummaryRow* row = r->add_rows();
  row->mutable_key()->set_department_id(id);
  row->set_display_name(name);
  SetRate(row->mutable_figures()->mutable_on_time_completion_rate(), on_time, due);
  SetRate(row->mutable_figures()->mutable_return_rate(), returned, dispatched);
  return row;
}

TEST(RankingTableTest, RanksBestFirstTiesShareARankAndRowsWithoutAValueComeLast) {
  mv1::GetSummaryResponse month, previous;
  month.mutable_period()->set_label("2026-11");
  previous.mutable_period()->set_label("2026-10");
  Row(&month, "water", "市水务局", 9, 10);
  Row(&month, "housing", "市住建局", 18, 20);  // 90%, more work measured: before water.
  Row(&month, "hrss", "市人社局", 19, 20);     // 95%
  Row(&month, "transport", "市交通局", 0, 0);  // nothing due: unranked
  Row(&month, "", "", 0, 0);                   // the hotline's own row
  Row(&previous, "water", "市水务局", 8, 10);
  Row(&previous, "hrss", "市人社局", 0, 0);

  absl::StatusOr<RankingTable> table = BuildRanking(month, previous, "on_time_completion_rate");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->month, "2026-11");
  EXPECT_EQ(table->previous_month, "2026-10");
  std::vector<std::pair<std::string, int>> order;
  for (const RankingRow& r : table->rows) order.emplace_back(r.department_id, r.rank);
  EXPECT_EQ(order, (std::vector<std::pair<std::string, int>>{
                       {"hrss", 1}, {"housing", 2}, {"water", 2}, {"", 0}, {"transport", 0}}));
  EXPECT_EQ(table->rows[3].display_name, "12345热线");
  // The change from the previous month, in percentage points, where both months have a rate.
  const RankedRate& water = table->rows[2].rates[0];
  ASSERT_TRUE(water.change_points.has_value());
  EXPECT_NEAR(*water.change_points, 10.0, 1e-9);
  EXPECT_FALSE(table->rows[0].rates[0].change_points.has_value());  // hrss had 0/0 before
  EXPECT_EQ(water.numerator, 9);
  EXPECT_EQ(water.denominator, 10);
}

TEST(RankingTableTest, LowerIsBetterForReturnsAndUnknownRatesAreRefused) {
  mv1::GetSummaryResponse month, previous;
  Row(&month, "water", "市水务局", 1, 1, 3, 10);
  Row(&month, "hrss", "市人社局", 1, 1, 1, 10);
  absl::StatusOr<RankingTable> table = BuildRanking(month, previous, "return_rate");
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->rows[0].department_id, "hrss");
  EXPECT_EQ(table->rows[0].rank, 1);
  EXPECT_EQ(BuildRanking(month, previous, "happiness").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RankingTableTest, CsvHoldsEveryRateWithItsPartsAndQuotesNames) {
  mv1::GetSummaryResponse month, previous;
  month.mutable_period()->set_label("2026-11");
  Row(&month, "water", "市水务局, 供水科", 9, 10);
  std::string csv = RankingCsv(*BuildRanking(month, previous, "on_time_completion_rate"));
  ASSERT_EQ(csv.substr(0, 3), "\xEF\xBB\xBF");
  std::vector<std::string> lines = absl::StrSplit(csv.substr(3), "\r\n", absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(absl::StartsWith(lines[1], "2026-11,1,water,\"市水务局, 供水科\",90.00,9,10,"))
      << lines[1];
  // 4 + 6 rates x 4 columns.
  EXPECT_EQ(std::vector<std::string>(absl::StrSplit(lines[0], ',')).size(), 28u);
}

TEST(RankingTableTest, SpreadsheetIsAnXlsxFile) {
  mv1::GetSummaryResponse month, previous;
  month.mutable_period()->set_label("2026-11");
  Row(&month, "water", "市水务局", 9, 10);
  absl::StatusOr<std::string> xlsx =
      RankingXlsx(*BuildRanking(month, previous, "on_time_completion_rate"));
  ASSERT_TRUE(xlsx.ok()) << xlsx.status();
  // A zip archive (XLSX is one), holding the worksheet.
  EXPECT_EQ(xlsx->substr(0, 2), "PK");
  EXPECT_NE(xlsx->find("xl/worksheets/sheet1.xml"), std::string::npos);
}

}  // namespace
}  // namespace hotline::gateway
