"use strict";
// The department portal (承办单位工作台): the department's work orders in hand, live (a new
// order appears within seconds, without a reload), soonest deadline first with the time left
// in working days; the selected order's work: sign, return as misrouted, progress notes,
// extension request, reply. Urges from supervisors stay on top of the page until the
// department answers them with a progress note. The ticket service keeps the department to
// its own orders; callers' numbers arrive masked and confidential callers empty.
(function () {
  var H = Hotline;
  var POLL_MS = 2000;
  var orders = [];           // as last listed: [{ticket, unanswered_urges, working_hours_left}]
  var selectedId = "";
  var pending = {};          // request id per intended operation, reused on retry
  var lastListing = "";
  var settings = null;

  function $(id) { return document.getElementById(id); }
  function showError(m) { $("portal-error").textContent = m || ""; }
  function showResult(m) { $("portal-result").textContent = m || ""; }
  function departmentName(id) {
    var d = ((settings && settings.departments) || []).filter(function (x) { return x.id === id; })[0];
    return d ? d.name : id;
  }

  // The current cycle's open work order of this department on the ticket.
  function myOrder(t, me) {
    var found = null;
    (t.work_orders || []).forEach(function (w) {
      if (w.cycle === t.cycle && w.department_id === me &&
          ["WORK_ORDER_STATE_PENDING_SIGN", "WORK_ORDER_STATE_SIGNED", "WORK_ORDER_STATE_RETURNED"].indexOf(w.state) >= 0) {
        found = w;
      }
    });
    return found;
  }

  // Working time left, as a department counts it: working days and hours (or clock hours for
  // limits given in hours); "已超期" once passed.
  function timeLeft(entry, w) {
    var hours = entry.working_hours_left ? entry.working_hours_left[w.id] : undefined;
    // Limits in clock hours (emergencies) count in clock time, unless an extension in working
    // days was granted since.
    var clock = w.time_limit && w.time_limit.hours &&
      !(w.extension && w.extension.state === "EXTENSION_STATE_APPROVED");
    if (hours === undefined || clock) return H.deadlineText(w.deadline, 4);
    var span = H.spanText(Math.abs(hours), 24, "个工作日");
    var level = w.warning_level === "WARNING_LEVEL_RED" || hours < 0 ? "red"
      : w.warning_level === "WARNING_LEVEL_YELLOW" ? "yellow" : "";
    return { text: (hours < 0 ? "已超期 " : "剩 ") + span, level: level };
  }

  function requestId(op, t) {
    var key = op + ":" + t.id + "@" + t.version;
    if (!pending[key]) pending[key] = H.newRequestId();
    return pending[key];
  }

  function me() { return (H._me && H._me.department_id) || ""; }

  function renderList() {
    var list = $("orders");
    list.textContent = "";
    orders.forEach(function (entry) {
      var t = entry.ticket;
      var w = myOrder(t, me());
      if (!w) return;
      var left = timeLeft(entry, w);
      var button = H.el("button", { type: "button", className: "queue-item", "data-ticket-id": t.id }, [
        H.el("strong", { text: t.id }), " ",
        H.el("span", { className: "badge", text: H.zh("kind", t.kind) }),
        H.el("span", { className: "badge", text: H.zh("workOrderState", w.state) }),
        w.role === "WORK_ORDER_ROLE_ASSIST" ? H.el("span", { className: "badge", text: "协办" }) : null,
        entry.unanswered_urges.length ? H.el("span", { className: "badge repeat", text: "督办未回复" }) : null,
        H.el("span", { className: "card deadline " + left.level, text: left.text }),
        H.el("span", { className: "content", text: (t.content || "").slice(0, 60) }),
      ]);
      if (t.id === selectedId) button.setAttribute("aria-current", "true");
      button.addEventListener("click", function () { selectedId = t.id; renderList(); renderDetail(); });
      list.appendChild(H.el("li", null, [button]));
    });
    $("orders-count").textContent = String(list.children.length);
  }

  function renderUrgeAlerts() {
    var box = $("urge-alerts");
    box.textContent = "";
    orders.forEach(function (entry) {
      if (!entry.unanswered_urges.length) return;
      var t = entry.ticket;
      var last = entry.unanswered_urges[entry.unanswered_urges.length - 1];
      var open = H.el("button", { type: "button", className: "secondary", text: "查看并回复" });
      open.addEventListener("click", function () {
        selectedId = t.id; renderList(); renderDetail();
        $("note-text").focus();
      });
      box.appendChild(H.el("div", { className: "urge-alert", role: "alert", "data-ticket-id": t.id }, [
        H.el("p", { text: "督办提醒：工单 " + t.id + " 被催办 " + entry.unanswered_urges.length + " 次，最近一次 " + H.time(last.time) + "：" + last.message }),
        open,
      ]));
    });
  }

  function fact(dl, term, value) {
    dl.appendChild(H.el("dt", { text: term }));
    dl.appendChild(H.el("dd", { text: value || "—" }));
  }

  function renderDetail() {
    var entry = orders.filter(function (e) { return e.ticket.id === selectedId; })[0];
    $("order-empty").hidden = !!entry;
    $("order-detail").hidden = !entry;
    if (!entry) return;
    var t = entry.ticket;
    var w = myOrder(t, me());
    if (!w) return;
    var left = timeLeft(entry, w);
    var deadline = $("order-deadline");
    deadline.className = "card " + left.level;
    deadline.textContent = "办理时限 " + H.time(w.deadline) + "（" + left.text + "）";
    var dl = $("order-facts");
    dl.textContent = "";
    fact(dl, "工单号", t.id + " / 工作单 " + w.id);
    fact(dl, "诉求类型", H.zh("kind", t.kind) + " · " + H.zh("urgency", t.urgency));
    fact(dl, "分类", t.category_path);
    fact(dl, "来电人", t.confidential ? "（保密，不向承办单位显示）" : ((t.caller_name || "") + " " + (t.caller_phone || "")).trim());
    fact(dl, "诉求内容", t.content);
    fact(dl, "派单意见", w.instructions);
    // The reviewers' supplementary notes (补充说明), oldest first, each with when and who.
    (t.supplements || []).forEach(function (n) {
      fact(dl, "补充说明", H.time(n.add_time) + "（" + (n.principal || "") + "）：" + n.text);
    });
    fact(dl, "承办角色", H.zh("workOrderRole", w.role));
    fact(dl, "状态", H.zh("workOrderState", w.state));
    fact(dl, "签收时限", H.time(w.sign_deadline));
    fact(dl, "可退单至", H.time(w.return_window_end));
    if (w.extension && w.extension.state && w.extension.state !== "EXTENSION_STATE_NONE") {
      fact(dl, "延期", H.zh("extensionState", w.extension.state) + (w.extension.reason ? "：" + w.extension.reason : ""));
    }
    var urges = $("order-urges");
    urges.textContent = "";
    entry.unanswered_urges.forEach(function (u) {
      urges.appendChild(H.el("div", { className: "urge-alert" }, [
        H.el("p", { text: "督办（" + H.time(u.time) + "，" + u.by + "）：" + u.message }),
        H.el("p", { text: w.state === "WORK_ORDER_STATE_SIGNED" ? "请在下方“办理进展”中回复督办。" : "请先签收，再在“办理进展”中回复督办。" }),
      ]));
    });
    var signed = w.state === "WORK_ORDER_STATE_SIGNED";
    $("sign-row").hidden = w.state !== "WORK_ORDER_STATE_PENDING_SIGN";
    $("note-form").hidden = !signed;
    $("extension-form").hidden = !signed || (w.extension && w.extension.state && w.extension.state !== "EXTENSION_STATE_NONE");
    $("reply-form").hidden = !signed;
    $("return-form").hidden = !(w.state === "WORK_ORDER_STATE_PENDING_SIGN" || signed) || w.return_refused ||
      (w.return_window_end && new Date(w.return_window_end).getTime() < Date.now());
  }

  var fetchOrders = H.latestOnly(function () { return H.api("/api/department/orders"); });

  function refresh() {
    return fetchOrders().then(function (result) {
      if (!result) return;  // A newer refresh is on its way.
      if (!result.ok) {
        $("orders-status").textContent = "刷新失败：" + H.errorMessage(result);
        return;
      }
      var listing = JSON.stringify(result.body);
      $("orders-status").textContent = "已更新 " + H.time(new Date().toISOString()) + (result.body.more ? "（只显示前 200 件）" : "");
      if (listing === lastListing) return;  // Unchanged: keep the focus where it is.
      lastListing = listing;
      orders = result.body.orders || [];
      var focused = document.activeElement && document.activeElement.getAttribute("data-ticket-id");
      renderList();
      renderUrgeAlerts();
      renderDetail();
      if (focused) {
        var again = document.querySelector('#orders [data-ticket-id="' + focused + '"]');
        if (again) again.focus();
      }
    });
  }

  // Resolves to whether the service took it, so that a refused action keeps what the person
  // typed for the next try.
  function act(op, body, done) {
    var entry = orders.filter(function (e) { return e.ticket.id === selectedId; })[0];
    if (!entry) return Promise.resolve(false);
    var t = entry.ticket;
    var w = myOrder(t, me());
    body.work_order_id = w.id;
    body.expected_version = t.version;
    body.request_id = requestId(op, t);
    showError(""); showResult("");
    return H.api("/api/tickets/" + encodeURIComponent(t.id) + "/" + op, { method: "POST", body: body })
      .then(function (result) {
        if (!result.ok) {
          showError(result.status === 409 ? "工单已被更新，已重新读取，请核对后再提交。" : H.errorMessage(result));
          lastListing = "";
          return refresh().then(function () { return false; });
        }
        showResult(done + "：" + t.id);
        lastListing = "";
        return refresh().then(function () { return true; });
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    H.session().then(function (result) {
      if (!result.ok || !result.body) return;
      H._me = result.body;
      H.api("/api/intake/settings").then(function (s) {
        if (s.ok) settings = s.body;
        $("department-name").textContent = "· " + departmentName(result.body.department_id);
      });
      refresh();
      setInterval(refresh, POLL_MS);
    });
    $("sign-order").addEventListener("click", function () { act("sign", {}, "已签收"); });
    $("add-note").addEventListener("click", function () {
      var text = $("note-text").value.trim();
      if (!text) { showError("请填写办理进展。"); $("note-text").focus(); return; }
      act("note", { text: text }, "已记录办理进展").then(function (ok) { if (ok) $("note-text").value = ""; });
    });
    $("request-extension").addEventListener("click", function () {
      var days = parseInt($("extension-days").value, 10);
      if (!(days >= 1)) { showError("请填写延长的工作日数。"); $("extension-days").focus(); return; }
      act("extension", { extension: { working_days: days }, reason: $("extension-reason").value.trim() },
        "已提交延期申请，等待督办审批");
    });
    $("reply-order").addEventListener("click", function () {
      var text = $("reply-text").value.trim();
      if (!text) { showError("请填写答复内容。"); $("reply-text").focus(); return; }
      act("reply", { reply_text: text }, "已答复").then(function (ok) { if (ok) $("reply-text").value = ""; });
    });
    $("return-order").addEventListener("click", function () {
      var reason = $("return-reason").value.trim();
      if (!reason) { showError("请填写退单理由。"); $("return-reason").focus(); return; }
      act("return", { reason: reason }, "已退回派单员");
    });
  });
})();
