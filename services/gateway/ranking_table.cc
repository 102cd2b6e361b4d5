#include "services/gateway/ranking_table.h"

#include <stdlib.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/files.h"

namespace hotline::gateway {
namespace {

namespace mv1 = ::hotline::metrics::v1;

const mv1::Rate& RateOf(const mv1::Figures& f, const std::string& key) {
  if (key == "on_time_completion_rate") return f.on_time_completion_rate();
  if (key == "callback_satisfaction_rate") return f.callback_satisfaction_rate();
  if (key == "timely_signing_rate") return f.timely_signing_rate();
  if (key == "return_rate") return f.return_rate();
  if (key == "reopen_rate") return f.reopen_rate();
  return f.first_contact_resolution_rate();
}

std::string NameOf(const mv1::SummaryRow& row) {
  if (!row.display_name().empty()) return row.display_name();
  return row.key().department_id().empty() ? "12345热线" : row.key().department_id();
}

// A CSV field, quoted when it must be (RFC 4180).
std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string quoted = "\"";
  for (char c : s) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string Percent(const RankedRate& r) {
  return r.has_value ? absl::StrFormat("%.2f", r.value * 100) : "";
}

std::string Change(const RankedRate& r) {
  return r.change_points ? absl::StrFormat("%+.2f", *r.change_points) : "";
}

}  // namespace

const std::vector<RateColumn>& RankingRates() {
  static const auto* rates = new std::vector<RateColumn>{
      {"on_time_completion_rate", "按期办结率", true},
      {"callback_satisfaction_rate", "回访满意率", true},
      {"timely_signing_rate", "及时签收率", true},
      {"return_rate", "退单率", false},
      {"reopen_rate", "重办率", false},
      {"first_contact_resolution_rate", "直接办结率", true},
  };
  return *rates;
}

absl::StatusOr<RankingTable> BuildRanking(const mv1::GetSummaryResponse& month,
                                          const mv1::GetSummaryResponse& previous,
                                          const std::string& rank_by) {
  const std::vector<RateColumn>& columns = RankingRates();
  auto column = std::find_if(columns.begin(), columns.end(),
                             [&](const RateColumn& c) { return c.key == rank_by; });
  if (column == columns.end()) {
    return absl::InvalidArgumentError(absl::StrCat("rank_by: unknown rate '", rank_by, "'"));
  }
  const size_t rank_index = column - columns.begin();
  std::map<std::string, const mv1::Figures*> before;
  for (const mv1::SummaryRow& row : previous.rows())
    before[row.key().department_id()] = &row.figures();

  RankingTable table;
  table.month = month.period().label();
  table.previous_month = previous.period().label();
  table.rank_by = rank_by;
  for (const mv1::SummaryRow& row : month.rows()) {
    RankingRow out;
    out.department_id = row.key().department_id();
    out.display_name = NameOf(row);
    auto prior = before.find(out.department_id);
    for (const RateColumn& c : columns) {
      const mv1::Rate& r = RateOf(row.figures(), c.key);
      RankedRate rate{r.numerator(), r.denominator(), r.has_value(), r.value(), std::nullopt};
      if (prior != before.end()) {
        const mv1::Rate& p = RateOf(*prior->second, c.key);
        if (r.has_value() && p.has_value()) rate.change_points = (r.value() - p.value()) * 100;
      }
      out.rates.push_back(rate);
    }
    table.rows.push_back(std::move(out));
  }
  const bool higher = column->higher_is_better;
  std::stable_sort(table.rows.begin(), table.rows.end(),
                   [&](const RankingRow& a, const RankingRow& b) {
                     const RankedRate& x = a.rates[rank_index];
                     const RankedRate& y = b.rates[rank_index];
                     if (x.has_value != y.has_value) return x.has_value;
                     if (!x.has_value) return a.department_id < b.department_id;
                     if (x.value != y.value) return higher ? x.value > y.value : x.value < y.value;
                     // Equal rates: the larger denominator (more work measured) first; then by id.
                     if (x.denominator != y.denominator) return x.denominator > y.denominator;
                     return a.department_id < b.department_id;
                   });
  int rank = 0;
  for (size_t i = 0; i < table.rows.size(); ++i) {
    const RankedRate& r = table.rows[i].rates[rank_index];
    if (!r.has_value) break;
    // Equal values share a rank (1, 2, 2, 4).
    if (i == 0 || r.value != table.rows[i - 1].rates[rank_index].value)
      rank = static_cast<int>(i) + 1;
    table.rows[i].rank = rank;
  }
  return table;
}

std::string RankingCsv(const RankingTable& table) {
  // A byte-order mark, so that spreadsheet programs read the Chinese as UTF-8.
  std::string csv = "\xEF\xBB\xBF";
  absl::StrAppend(&csv, "月份,排名,承办单位编号,承办单位");
  for (const RateColumn& c : RankingRates()) {
    absl::StrAppend(&csv, ",", c.label, "(%),", c.label, "分子,", c.label, "分母,", c.label,
                    "环比(百分点)");
  }
  csv += "\r\n";
  for (const RankingRow& row : table.rows) {
    absl::StrAppend(&csv, table.month, ",", row.rank > 0 ? absl::StrCat(row.rank) : "", ",",
                    CsvField(row.department_id), ",", CsvField(row.display_name));
    for (const RankedRate& r : row.rates) {
      absl::StrAppend(&csv, ",", Percent(r), ",", r.numerator, ",", r.denominator, ",", Change(r));
    }
    csv += "\r\n";
  }
  return csv;
}

absl::StatusOr<std::string> RankingXlsx(const RankingTable& table) {
  // libxlsxwriter writes to a file: a private temporary one, read back and removed.
  char path[] = "/tmp/hotline-ranking-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return absl::InternalError("cannot create a temporary file for the spreadsheet");
  close(fd);
  struct Remove {
    const char* p;
    ~Remove() { unlink(p); }
  } remove{path};

  lxw_workbook* workbook = workbook_new(path);
  if (workbook == nullptr) return absl::InternalError("cannot start the spreadsheet");
  lxw_worksheet* sheet = workbook_add_worksheet(workbook, table.month.c_str());
  lxw_format* bold = workbook_add_format(workbook);
  format_set_bold(bold);
  lxw_format* percent = workbook_add_format(workbook);
  format_set_num_format(percent, "0.00%");
  lxw_format* points = workbook_add_format(workbook);
  format_set_num_format(points, "+0.00;-0.00;0.00");

  lxw_row_t r = 0;
  lxw_col_t c = 0;
  for (const char* h : {"月份", "排名", "承办单位编号", "承办单位"}) {
    worksheet_write_string(sheet, r, c++, h, bold);
  }
  for (const RateColumn& rate : RankingRates()) {
    worksheet_write_string(sheet, r, c++, rate.label.c_str(), bold);
    worksheet_write_string(sheet, r, c++, (rate.label + "分子").c_str(), bold);
    worksheet_write_string(sheet, r, c++, (rate.label + "分母").c_str(), bold);
    worksheet_write_string(sheet, r, c++, (rate.label + "环比(百分点)").c_str(), bold);
  }
  for (const RankingRow& row : table.rows) {
    ++r;
    c = 0;
    worksheet_write_string(sheet, r, c++, table.month.c_str(), nullptr);
    if (row.rank > 0) worksheet_write_number(sheet, r, c, row.rank, nullptr);
    ++c;
    worksheet_write_string(sheet, r, c++, row.department_id.c_str(), nullptr);
    worksheet_write_string(sheet, r, c++, row.display_name.c_str(), nullptr);
    for (const RankedRate& rate : row.rates) {
      if (rate.has_value) worksheet_write_number(sheet, r, c, rate.value, percent);
      ++c;
      worksheet_write_number(sheet, r, c++, static_cast<double>(rate.numerator), nullptr);
      worksheet_write_number(sheet, r, c++, static_cast<double>(rate.denominator), nullptr);
      if (rate.change_points) worksheet_write_number(sheet, r, c, *rate.change_points, points);
      ++c;
    }
  }
  worksheet_set_column(sheet, 3, 3, 24, nullptr);
  worksheet_freeze_panes(sheet, 1, 4);
  if (lxw_error error = workbook_close(workbook); error != LXW_NO_ERROR) {
    return absl::InternalError(absl::StrCat("spreadsheet not written: ", lxw_strerror(error)));
  }
  return ReadFileToString(path, "spreadsheet");
}

}  // namespace hotline::gateway
