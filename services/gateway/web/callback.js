"use strict";
// The callback console (回访台): tickets waiting for a callback, the longest-waiting first;
// the selected one shows the caller's own words beside what each department replied, and
// the outcome is recorded with a note. The caller's number comes with the ticket's details
// (that view is recorded in the audit trail). "Dissatisfied" reopens the ticket for another
// handling cycle; "unreachable" and "declined" leave it in the queue for another attempt.
(function () {
  var H = Hotline;
  var POLL_MS = 3000;
  var selected = null;     // full ticket, as last read
  var pending = {};
  var lastListing = "";
  var settings = null;

  function $(id) { return document.getElementById(id); }
  function showError(m) { $("callback-error").textContent = m || ""; }
  function showResult(m) { $("callback-result").textContent = m || ""; }
  function departmentName(id) {
    var d = ((settings && settings.departments) || []).filter(function (x) { return x.id === id; })[0];
    return d ? d.name : id;
  }

  function renderQueue(tickets) {
    var list = $("callback-queue");
    list.textContent = "";
    tickets.forEach(function (t) {
      var attempts = (t.callbacks || []).filter(function (c) { return c.cycle === t.cycle; }).length;
      var button = H.el("button", { type: "button", className: "queue-item", "data-ticket-id": t.id }, [
        H.el("strong", { text: t.id }), " ",
        H.el("span", { className: "badge", text: H.zh("kind", t.kind) }),
        t.cycle > 1 ? H.el("span", { className: "badge repeat", text: "第 " + t.cycle + " 次办理" }) : null,
        attempts ? H.el("span", { className: "badge", text: "已回访 " + attempts + " 次未果" }) : null,
        H.el("span", { className: "content", text: "等待自 " + H.time(t.update_time) + " · " + (t.content || "").slice(0, 50) }),
      ]);
      if (selected && selected.id === t.id) button.setAttribute("aria-current", "true");
      button.addEventListener("click", function () { select(t.id); });
      list.appendChild(H.el("li", null, [button]));
    });
    $("callback-count").textContent = String(tickets.length);
  }

  var fetchQueue = H.latestOnly(function () { return H.api("/api/callback/queue"); });

  function refresh() {
    return fetchQueue().then(function (result) {
      if (!result) return;  // A newer refresh is on its way.
      if (!result.ok) {
        $("callback-status").textContent = "刷新失败：" + H.errorMessage(result);
        return;
      }
      $("callback-status").textContent = "已更新 " + H.time(new Date().toISOString());
      var listing = JSON.stringify(result.body);
      if (listing === lastListing) return;
      lastListing = listing;
      var focused = document.activeElement && document.activeElement.getAttribute("data-ticket-id");
      renderQueue(result.body.tickets || []);
      if (focused) {
        var again = document.querySelector('#callback-queue [data-ticket-id="' + focused + '"]');
        if (again) again.focus();
      }
    });
  }

  function fact(dl, term, value) {
    dl.appendChild(H.el("dt", { text: term }));
    dl.appendChild(H.el("dd", { text: value || "—" }));
  }

  function select(id) {
    showError("");
    return H.api("/api/tickets/" + encodeURIComponent(id)).then(function (result) {
      if (!result.ok) { showError(H.errorMessage(result)); return; }
      selected = result.body;
      lastListing = "";
      refresh();
      render();
      $("callback-form").querySelector("input[type=radio]").focus();
    });
  }

  function render() {
    $("callback-empty").hidden = !!selected;
    $("callback-ticket").hidden = !selected;
    if (!selected) return;
    var t = selected;
    var dl = $("callback-facts");
    dl.textContent = "";
    fact(dl, "工单号", t.id);
    fact(dl, "来电人", (t.caller_name || "") + " " + (t.caller_phone || "（未留电话）"));
    fact(dl, "诉求类型", H.zh("kind", t.kind));
    fact(dl, "办理次数", "第 " + t.cycle + " 次");
    $("citizen-words").textContent = t.content || "";
    var replies = $("department-replies");
    replies.textContent = "";
    (t.work_orders || []).filter(function (w) { return w.cycle === t.cycle && w.reply_text; }).forEach(function (w) {
      replies.appendChild(H.el("h4", { text: departmentName(w.department_id) + "（" + H.zh("workOrderRole", w.role) + "，" + H.time(w.reply_time) + (w.on_time ? "，按期" : "，超期") + "）" }));
      replies.appendChild(H.el("p", { className: "quote", text: w.reply_text }));
    });
    $("callback-link").href = "/ticket.html?id=" + encodeURIComponent(t.id);
    document.querySelectorAll("input[name=callback-result]").forEach(function (r) { r.checked = false; });
    $("callback-comment").value = "";
  }

  function record() {
    if (!selected) return;
    var chosen = document.querySelector("input[name=callback-result]:checked");
    if (!chosen) { showError("请选择回访结果。"); $("callback-form").querySelector("input[type=radio]").focus(); return; }
    var key = "callback:" + selected.id + "@" + selected.version;
    if (!pending[key]) pending[key] = H.newRequestId();
    var t = selected;
    H.api("/api/tickets/" + encodeURIComponent(t.id) + "/callback", {
      method: "POST",
      body: { expected_version: t.version, request_id: pending[key], result: chosen.value,
              comment: $("callback-comment").value.trim() },
    }).then(function (result) {
      if (!result.ok) { showError(H.errorMessage(result)); return; }
      var after = result.body;
      var outcome = after.state === "TICKET_STATE_CLOSED" ? "工单已办结"
        : after.state === "TICKET_STATE_IN_PROGRESS" ? "市民不满意，工单已重新交办（第 " + after.cycle + " 次办理）"
        : "已记录，工单留在待回访队列，稍后再次回访";
      showResult("已保存 " + t.id + " 的回访结果（" + H.zh("callback", chosen.value) + "）：" + outcome + "。");
      selected = null;
      render();
      lastListing = "";
      refresh().then(function () {
        var first = document.querySelector("#callback-queue button");
        (first || $("callback-queue-heading")).focus();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    H.api("/api/intake/settings").then(function (s) { if (s.ok) settings = s.body; });
    $("record-callback").addEventListener("click", record);
    refresh();
    setInterval(refresh, POLL_MS);
  });
})();
