// The monthly ranking of departments (一月一评比): the rates supervisors publish, each with
// its numerator and denominator and its change from the previous month, in one table that
// the page, the CSV and the spreadsheet all show. Built from two GetSummary answers only, so
// its figures are GetSummary's.
#ifndef HOTLINE_SERVICES_GATEWAY_RANKING_TABLE_H_
#define HOTLINE_SERVICES_GATEWAY_RANKING_TABLE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hotline/metrics/v1/metrics.pb.h"

namespace hotline::gateway {

struct RankedRate {
  int64_t numerator = 0;
  int64_t denominator = 0;
  bool has_value = false;
  double value = 0;  // Fraction in [0, 1].
  // Change from the previous month in percentage points; unset when either month has none.
  std::optional<double> change_points;
};

struct RankingRow {
  int rank = 0;  // 0: not ranked (no value for the ranking rate).
  std::string department_id;
  std::string display_name;
  std::vector<RankedRate> rates;  // In RankingRates() order.
};

struct RateColumn {
  std::string key;    // e.g. "on_time_completion_rate", as in metrics.v1.Figures.
  std::string label;  // e.g. "按期办结率".
  bool higher_is_better;
};

// The rates of the ranking, in display order.
const std::vector<RateColumn>& RankingRates();

struct RankingTable {
  std::string month;           // "2026-11"
  std::string previous_month;  // "2026-10"
  std::string rank_by;         // A RateColumn key.
  std::vector<RankingRow> rows;
};

// Rows for every department of `month` (and the hotline's own row, which has only the
// first-contact rate), ranked by `rank_by`: best first, ties share a rank, rows without a
// value come last unranked. INVALID_ARGUMENT for an unknown `rank_by`.
absl::StatusOr<RankingTable> BuildRanking(const metrics::v1::GetSummaryResponse& month,
                                          const metrics::v1::GetSummaryResponse& previous,
                                          const std::string& rank_by);

std::string RankingCsv(const RankingTable& table);
// The spreadsheet's bytes (libxlsxwriter), or INTERNAL when it cannot be written.
absl::StatusOr<std::string> RankingXlsx(const RankingTable& table);

}  // namespace hotline::gateway

#endif  // HOTLINE_SERVICES_GATEWAY_RANKING_TABLE_H_
