"use strict";
// The supervisors' live overview. Figures come from the metrics service's WatchDashboard
// stream, relayed by the gateway as server-sent events: every event is a full snapshot that
// replaces what is on screen, so a missed event never leaves the page wrong for long.
(function () {
  var H = Hotline;
  var source = null;
  var lastAnnounced = "";
  var trendTimer = null;
  var lastTrendLoad = 0;

  // The rates and averages the metrics service declares (services/metrics/figures.h).
  var VOCABULARY = window.HOTLINE_METRICS_VOCABULARY || { rates: [], averages: [] };

  // One tile per declared figure; element ids from its key ("on-time-rate").
  function buildTiles() {
    var list = document.getElementById("figures");
    var tiles = VOCABULARY.rates.map(function (r) {
      var parts = r.numerator_label
        ? [r.numerator_label + " ", H.el("span", { id: r.key + "-numerator", text: "0" }),
           " / " + r.denominator_label + " ", H.el("span", { id: r.key + "-denominator", text: "0" })]
        : [H.el("span", { id: r.key + "-numerator", text: "0" }), " / ",
           H.el("span", { id: r.key + "-denominator", text: "0" })];
      return H.el("div", { className: r.primary ? "figure primary" : "figure", id: "fig-" + r.field,
                           "data-numerator": "", "data-denominator": "" }, [
        H.el("dt", { text: r.label }),
        H.el("dd", {}, [H.el("span", { className: "value", id: r.key + "-rate", text: "—" }), " ",
                        H.el("span", { className: "parts" }, parts)]),
      ]);
    }).concat(VOCABULARY.averages.map(function (a) {
      return H.el("div", { className: "figure", id: "fig-" + a.key }, [
        H.el("dt", { text: a.label }),
        H.el("dd", {}, [H.el("span", { className: "value", id: a.key + "-hours", text: "—" }), " ",
                        H.el("span", { className: "parts" }, [a.unit + "，共 ",
                          H.el("span", { id: a.key + "-count", text: "0" }), " 件"])]),
      ]);
    }));
    list.replaceChildren.apply(list, tiles);
  }

  function setText(id, text) {
    var node = document.getElementById(id);
    if (node && node.textContent !== String(text)) node.textContent = text;
  }

  function renderFigures(figures) {
    VOCABULARY.rates.forEach(function (r) {
      var rate = figures[r.field] || {};
      setText(r.key + "-rate", H.percent(rate));
      setText(r.key + "-numerator", H.num(rate.numerator));
      setText(r.key + "-denominator", H.num(rate.denominator));
      var box = document.getElementById("fig-" + r.field);
      if (box) {
        box.setAttribute("data-numerator", H.num(rate.numerator));
        box.setAttribute("data-denominator", H.num(rate.denominator));
      }
    });
    VOCABULARY.averages.forEach(function (a) {
      var average = figures[a.field] || {};
      var hours = null;
      Object.keys(average).forEach(function (k) { if (k.indexOf("average_") === 0) hours = average[k]; });
      setText(a.key + "-hours", average.has_average && hours !== null ? Number(hours).toFixed(1) : "—");
      setText(a.key + "-count", H.num(average.count));
    });
  }

  function renderBacklog(backlog) {
    backlog = backlog || {};
    setText("backlog-open", H.num(backlog.open_total));
    setText("backlog-yellow", H.num(backlog.yellow_count));
    setText("backlog-red", H.num(backlog.red_count));
    var states = ["WORK_ORDER_STATE_AWAITING_SIGN", "WORK_ORDER_STATE_IN_PROGRESS",
      "WORK_ORDER_STATE_EXTENSION_REQUESTED", "WORK_ORDER_STATE_RETURN_REQUESTED",
      "WORK_ORDER_STATE_AWAITING_CALLBACK"];
    var counts = {};
    (backlog.by_state || []).forEach(function (s) { counts[s.state] = H.num(s.count); });
    var tbody = document.querySelector("#backlog-table tbody");
    tbody.replaceChildren.apply(tbody, states.map(function (state) {
      return H.el("tr", { "data-state": state }, [
        H.el("th", { scope: "row", text: H.zh("metricsWorkOrderState", state) }),
        H.el("td", { className: "number", id: "backlog-" + state, text: String(counts[state] || 0) }),
      ]);
    }));
    Charts.bars(document.getElementById("backlog-chart"), states.map(function (state) {
      return { label: H.zh("metricsWorkOrderState", state), value: counts[state] || 0 };
    }));
  }

  function warningCard(level) {
    var red = level === "WARNING_LEVEL_RED";
    return H.el("span", { className: "card " + (red ? "red" : "yellow"), text: red ? "红牌" : "黄牌" });
  }

  function renderOverdue(items, total) {
    var tbody = document.querySelector("#overdue-table tbody");
    tbody.replaceChildren.apply(tbody, (items || []).map(function (item) {
      return H.el("tr", { "data-ticket-id": item.ticket_id, "data-level": item.warning_level }, [
        H.el("td", null, [warningCard(item.warning_level)]),
        H.el("td", null, [H.el("a", { href: "/ticket.html?id=" + encodeURIComponent(item.ticket_id), text: item.ticket_id })]),
        H.el("td", { text: item.department_name || item.department_id }),
        H.el("td", { text: item.lead ? "主办" : "协办" }),
        H.el("td", { text: H.zh("metricsWorkOrderState", item.state) }),
        H.el("td", { text: H.time(item.deadline) + (item.extended ? "（已延期）" : "") }),
        H.el("td", { className: "number", text: Number(item.overdue_working_hours || 0).toFixed(1) }),
        H.el("td", { className: "number", text: String(item.urge_count || 0) }),
      ]);
    }));
    var shown = (items || []).length;
    var text = total === 0 ? "当前没有超期或临期的工作单。" :
      "共 " + total + " 件" + (total > shown ? "，显示最超期的 " + shown + " 件" : "") + "。";
    setText("overdue-summary", text);
  }

  function renderDepartments(rows) {
    var tbody = document.querySelector("#department-table tbody");
    tbody.replaceChildren.apply(tbody, (rows || []).map(function (row) {
      var f = row.figures || {};
      var backlog = f.backlog || {};
      var handling = f.average_handling_time || {};
      var id = row.key && row.key.department_id;
      function rateCell(rate) {
        rate = rate || {};
        return H.el("td", { className: "number" }, [H.percent(rate), H.el("br"),
          H.el("small", { text: H.num(rate.numerator) + " / " + H.num(rate.denominator) })]);
      }
      return H.el("tr", { "data-department": id || "" }, [
        H.el("th", { scope: "row", text: row.display_name || id || "—" }),
        rateCell(f.on_time_completion_rate),
        rateCell(f.callback_satisfaction_rate),
        rateCell(f.completion_rate),
        rateCell(f.timely_signing_rate),
        H.el("td", { className: "number", text: String(H.num(backlog.open_total)) }),
        H.el("td", { className: "number", text: String(H.num(backlog.yellow_count)) }),
        H.el("td", { className: "number", text: String(H.num(backlog.red_count)) }),
        H.el("td", { className: "number", text: handling.has_average ? Number(handling.average_working_hours).toFixed(1) : "—" }),
      ]);
    }));
  }

  function announce(figures) {
    var onTime = figures.on_time_completion_rate || {};
    var satisfaction = figures.callback_satisfaction_rate || {};
    var sentence = "数据已更新：按期办结率 " + H.percent(onTime) + "（" + H.num(onTime.numerator) + "/" +
      H.num(onTime.denominator) + "），回访满意率 " + H.percent(satisfaction) + "（" +
      H.num(satisfaction.numerator) + "/" + H.num(satisfaction.denominator) + "）。";
    // Heartbeats and unchanged snapshots stay silent.
    if (sentence !== lastAnnounced) {
      if (lastAnnounced) setText("live-announcer", sentence);
      lastAnnounced = sentence;
    }
  }

  function renderSnapshot(snapshot) {
    var figures = snapshot.totals || {};
    renderFigures(figures);
    renderBacklog(figures.backlog);
    renderOverdue(snapshot.overdue_preview, snapshot.overdue_total || 0);
    renderDepartments(snapshot.rows);
    announce(figures);
    var version = snapshot.data_version || {};
    var sequence = H.num(version.last_applied_sequence);
    var versionNode = document.getElementById("data-version");
    versionNode.setAttribute("data-sequence", String(sequence));
    versionNode.textContent = "· 数据版本 #" + sequence;
    setText("updated-at", "· 更新于 " + H.time(version.computed_at));
    setText("period-label", snapshot.period && snapshot.period.label ? "· 周期 " + snapshot.period.label : "");
    if (snapshot.reason !== "SNAPSHOT_REASON_HEARTBEAT") scheduleTrend();
  }

  function setConnection(state, text) {
    var node = document.getElementById("connection");
    node.setAttribute("data-state", state);
    node.textContent = text;
  }

  function connect() {
    if (source) source.close();
    var period = document.getElementById("period").value;
    source = new EventSource("/api/dashboard/stream?period=" + encodeURIComponent(period));
    source.addEventListener("snapshot", function (event) {
      document.getElementById("overview-error").textContent = "";
      setConnection("live", "实时连接正常");
      renderSnapshot(JSON.parse(event.data));
    });
    source.addEventListener("heartbeat", function () {
      setConnection("live", "实时连接正常");
    });
    source.addEventListener("upstream-error", function (event) {
      var body = {};
      try { body = JSON.parse(event.data); } catch (e) { body = {}; }
      if (body.error && body.error.code === "UNAUTHENTICATED") {
        source.close();
        H.goToLogin();
        return;
      }
      setConnection("lost", "实时数据中断，正在重新连接…");
    });
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) {
        // The gateway refused the stream outright (401/403/503): ask why, then retry later.
        setConnection("lost", "实时数据中断");
        H.api("/api/session").then(function (result) {
          if (result.ok && result.body && !result.body.supervisor) {
            document.getElementById("overview-error").textContent = "您的账号无权查看督办总览。";
            return;
          }
          setTimeout(connect, 5000);
        });
      } else {
        setConnection("lost", "实时数据中断，正在重新连接…");
      }
    };
  }

  // The trend follows the live figures, but at most every few seconds: it is a heavier query.
  function scheduleTrend() {
    if (trendTimer) return;
    var wait = Math.max(0, 3000 - (Date.now() - lastTrendLoad));
    trendTimer = setTimeout(function () {
      trendTimer = null;
      loadTrend();
    }, wait);
  }

  function loadTrend() {
    lastTrendLoad = Date.now();
    H.api("/api/trend?period=day&count=14").then(function (result) {
      if (!result.ok) return;
      var points = result.body.points || [];
      var labels = points.map(function (p) { return (p.period && p.period.label || "").slice(5); });
      function series(field) {
        return points.map(function (p) {
          var rate = (p.figures || {})[field] || {};
          return rate.has_value ? rate.value * 100 : null;
        });
      }
      Charts.lines(document.getElementById("trend-rates"), labels,
        [series("on_time_completion_rate"), series("callback_satisfaction_rate")], 100, "按期办结率与回访满意率趋势");
      Charts.bars(document.getElementById("trend-volume"), points.map(function (p, i) {
        return { label: labels[i], value: H.num(((p.figures || {}).on_time_completion_rate || {}).denominator) };
      }));
      var tbody = document.querySelector("#trend-table tbody");
      tbody.replaceChildren.apply(tbody, points.map(function (p) {
        var f = p.figures || {};
        return H.el("tr", null, [
          H.el("th", { scope: "row", text: p.period && p.period.label || "" }),
          H.el("td", { className: "number", text: H.percent(f.on_time_completion_rate) }),
          H.el("td", { className: "number", text: H.percent(f.callback_satisfaction_rate) }),
          H.el("td", { className: "number", text: String(H.num((f.on_time_completion_rate || {}).denominator)) }),
        ]);
      }));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    buildTiles();
    document.getElementById("period").addEventListener("change", connect);
    connect();
    loadTrend();
  });
  // Closing the page closes the stream at once, so the gateway ends the upstream call too.
  window.addEventListener("pagehide", function () { if (source) source.close(); });
})();
