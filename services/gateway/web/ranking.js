"use strict";
// The monthly ranking (考核排名): for a chosen month, departments ranked by a chosen rate, every
// rate with its numerator and denominator and its change from the previous month, as the
// metrics service's GetSummary reports them; the same table downloads as CSV and Excel.
(function () {
  var H = Hotline;
  function $(id) { return document.getElementById(id); }

  function thisMonth() {
    var parts = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit" })
      .formatToParts(new Date());
    var get = function (type) { return parts.filter(function (p) { return p.type === type; })[0].value; };
    return get("year") + "-" + get("month");
  }

  function query() {
    return "?month=" + encodeURIComponent($("ranking-month").value) +
      "&rank_by=" + encodeURIComponent($("ranking-rank-by").value || "on_time_completion_rate");
  }

  function cell(rate, column) {
    var td = H.el("td", { className: "number" });
    td.appendChild(H.el("span", { className: "value", text: H.percent(rate) }));
    td.appendChild(H.el("span", { className: "parts", text: H.num(rate.numerator) + "/" + H.num(rate.denominator) }));
    if (rate.change_points !== null && rate.change_points !== undefined) {
      var better = column.higher_is_better ? rate.change_points > 0 : rate.change_points < 0;
      var worse = column.higher_is_better ? rate.change_points < 0 : rate.change_points > 0;
      td.appendChild(H.el("span", {
        className: "change" + (better ? " better" : worse ? " worse" : ""),
        text: "环比 " + (rate.change_points > 0 ? "+" : "") + rate.change_points.toFixed(2) + " 个百分点",
      }));
    }
    return td;
  }

  function render(body) {
    var head = $("ranking-head");
    head.textContent = "";
    var tr = H.el("tr", null, [H.el("th", { scope: "col", text: "排名" }), H.el("th", { scope: "col", text: "承办单位" })]);
    body.rates.forEach(function (c) {
      tr.appendChild(H.el("th", { scope: "col", className: "number", text: c.label + (c.key === body.rank_by ? "（排名依据）" : "") }));
    });
    head.appendChild(tr);
    var rows = $("ranking-body");
    rows.textContent = "";
    body.rows.forEach(function (row) {
      var r = H.el("tr", { "data-department-id": row.department_id }, [
        H.el("td", { className: "number", text: row.rank ? String(row.rank) : "—" }),
        H.el("th", { scope: "row", text: row.display_name }),
      ]);
      body.rates.forEach(function (c) { r.appendChild(cell(row.rates[c.key], c)); });
      rows.appendChild(r);
    });
    $("ranking-caption").textContent = body.month + " 承办单位考核排名（与 " + body.previous_month + " 比较）" +
      (body.month_ended ? "" : "，本月尚未结束，数据为截至目前");
  }

  function load() {
    $("ranking-error").textContent = "";
    $("ranking-csv").href = "/api/ranking.csv" + query();
    $("ranking-xlsx").href = "/api/ranking.xlsx" + query();
    return H.api("/api/ranking" + query()).then(function (result) {
      if (!result.ok) { $("ranking-error").textContent = H.errorMessage(result); return; }
      $("ranking-status").textContent = "数据截至事件 #" + result.body.last_applied_sequence + "，" + H.time(new Date().toISOString());
      var select = $("ranking-rank-by");
      if (!select.options.length) {
        result.body.rates.forEach(function (c) {
          select.appendChild(H.el("option", { value: c.key, text: c.label }));
        });
        select.value = result.body.rank_by;
      }
      render(result.body);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("ranking-month").value = thisMonth();
    $("ranking-month").max = thisMonth();
    $("ranking-form").addEventListener("submit", function (e) { e.preventDefault(); load(); });
    $("ranking-rank-by").addEventListener("change", load);
    load();
  });
})();
