// GET /api/ranking?month=YYYY-MM&rank_by=RATE (JSON), /api/ranking.csv and /api/ranking.xlsx:
// the monthly ranking of departments, from the metrics service's GetSummary for that month
// and the month before (ranking_table.h).
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/proto_time.h"
#include "services/gateway/api_errors.h"
#include "services/gateway/api_helpers.h"
#include "services/gateway/gateway.h"
#include "services/gateway/ranking_table.h"

namespace hotline::gateway {
namespace {

namespace mv1 = ::hotline::metrics::v1;

// Periods are Asia/Shanghai's (UTC+8, no daylight saving), as in the metrics contract.
const absl::TimeZone& Shanghai() {
  static const absl::TimeZone* zone = new absl::TimeZone(absl::FixedTimeZone(8 * 3600));
  return *zone;
}

// An instant inside the month "YYYY-MM" (its first day, 12:00), or nullopt when malformed.
std::optional<absl::CivilMonth> ParseMonth(const std::string& text) {
  int year = 0, month = 0;
  if (text.size() != 7 || text[4] != '-' || !absl::SimpleAtoi(text.substr(0, 4), &year) ||
      !absl::SimpleAtoi(text.substr(5, 2), &month) || month < 1 || month > 12 || year < 2000) {
    return std::nullopt;
  }
  return absl::CivilMonth(year, month);
}

}  // namespace

static bool TableFor(const httplib::Request& request, httplib::Response& response,
                     const mv1::GetSummaryResponse& month, const mv1::GetSummaryResponse& previous,
                     RankingTable* table);

void Gateway::RegisterRankingApi(httplib::Server* server) {
  server->Get("/api/ranking",
              [this](const httplib::Request& q, httplib::Response& r) { Ranking(q, r); });
  server->Get("/api/ranking.csv",
              [this](const httplib::Request& q, httplib::Response& r) { RankingCsv(q, r); });
  server->Get("/api/ranking.xlsx",
              [this](const httplib::Request& q, httplib::Response& r) { RankingXlsx(q, r); });
}

bool Gateway::RankingFigures(const httplib::Request& request, httplib::Response& response,
                             mv1::GetSummaryResponse* month, mv1::GetSummaryResponse* previous) {
  const absl::Time now = absl::Now();
  const absl::CivilMonth current = absl::CivilMonth(absl::ToCivilSecond(now, Shanghai()));
  absl::CivilMonth wanted = current;
  if (request.has_param("month")) {
    std::optional<absl::CivilMonth> parsed = ParseMonth(request.get_param_value("month"));
    if (!parsed) {
      InvalidField(response, "month", "必须是 YYYY-MM 形式的月份，例如 2026-11");
      return false;
    }
    if (*parsed > current) {
      InvalidField(response, "month", "不能是将来的月份");
      return false;
    }
    wanted = *parsed;
  }
  const std::string token = TokenOf(request);
  auto summary = [&](absl::CivilMonth m, mv1::GetSummaryResponse* out) {
    mv1::GetSummaryRequest upstream;
    upstream.mutable_period()->set_kind(mv1::PERIOD_KIND_MONTH);
    // The current month: now (the selector must not be in the future); others: their 1st.
    absl::Time at = m == current ? now : absl::FromCivil(absl::CivilSecond(m), Shanghai());
    *upstream.mutable_period()->mutable_at() = ToProtoTime(at);
    upstream.set_group_by(mv1::DIMENSION_DEPARTMENT);
    return !Failed(response, metrics_->GetSummary(ContextFor(token).get(), upstream, out));
  };
  return summary(wanted, month) && summary(wanted - 1, previous);
}

void Gateway::Ranking(const httplib::Request& request, httplib::Response& response) {
  mv1::GetSummaryResponse month, previous;
  RankingTable built;
  if (!RankingFigures(request, response, &month, &previous) ||
      !TableFor(request, response, month, previous, &built)) {
    return;
  }
  const RankingTable* table = &built;
  const std::string& rank_by = built.rank_by;
  nlohmann::json rates = nlohmann::json::array();
  for (const RateColumn& c : RankingRates()) {
    rates.push_back({{"key", c.key}, {"label", c.label}, {"higher_is_better", c.higher_is_better}});
  }
  nlohmann::json rows = nlohmann::json::array();
  for (const RankingRow& row : table->rows) {
    nlohmann::json values = nlohmann::json::object();
    for (size_t i = 0; i < row.rates.size(); ++i) {
      const RankedRate& r = row.rates[i];
      nlohmann::json v = {{"numerator", r.numerator},
                          {"denominator", r.denominator},
                          {"has_value", r.has_value},
                          {"value", r.value}};
      v["change_points"] = r.change_points ? nlohmann::json(*r.change_points) : nlohmann::json();
      values[RankingRates()[i].key] = std::move(v);
    }
    rows.push_back({{"rank", row.rank},
                    {"department_id", row.department_id},
                    {"display_name", row.display_name},
                    {"rates", std::move(values)}});
  }
  SendJson(response, 200,
           nlohmann::json{{"month", table->month},
                          {"previous_month", table->previous_month},
                          {"month_ended", month.period().ended()},
                          {"rank_by", rank_by},
                          {"rates", rates},
                          {"rows", rows},
                          {"last_applied_sequence", month.data_version().last_applied_sequence()}});
}

// The table for the request's month and rank_by, or false (and the error sent).
static bool TableFor(const httplib::Request& request, httplib::Response& response,
                     const mv1::GetSummaryResponse& month, const mv1::GetSummaryResponse& previous,
                     RankingTable* table) {
  absl::StatusOr<RankingTable> built =
      BuildRanking(month, previous,
                   request.has_param("rank_by") ? request.get_param_value("rank_by")
                                                : "on_time_completion_rate");
  if (!built.ok()) {
    InvalidField(response, "rank_by", "不是可排名的指标");
    return false;
  }
  *table = std::move(*built);
  return true;
}

void Gateway::RankingCsv(const httplib::Request& request, httplib::Response& response) {
  mv1::GetSummaryResponse month, previous;
  RankingTable table;
  if (!RankingFigures(request, response, &month, &previous) ||
      !TableFor(request, response, month, previous, &table)) {
    return;
  }
  response.set_header("Content-Disposition",
                      absl::StrCat("attachment; filename=\"ranking-", table.month, ".csv\""));
  response.set_content(gateway::RankingCsv(table), "text/csv; charset=utf-8");
}

void Gateway::RankingXlsx(const httplib::Request& request, httplib::Response& response) {
  mv1::GetSummaryResponse month, previous;
  RankingTable table;
  if (!RankingFigures(request, response, &month, &previous) ||
      !TableFor(request, response, month, previous, &table)) {
    return;
  }
  absl::StatusOr<std::string> bytes = gateway::RankingXlsx(table);
  if (!bytes.ok()) {
    return Reply(response,
                 grpc::Status(grpc::StatusCode::INTERNAL, std::string(bytes.status().message())),
                 mv1::GetSummaryResponse());
  }
  response.set_header("Content-Disposition",
                      absl::StrCat("attachment; filename=\"ranking-", table.month, ".xlsx\""));
  response.set_content(*bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
}

}  // namespace hotline::gateway
