"use strict";
// Drill-down into one ticket: its facts, work orders and history, the supervisor's actions
// (urge, decide an extension) and the reviewer's supplementary notes for the departments
// (补充说明). Every action carries the version shown on screen
// (expected_version) and an idempotency key made once per intended action and reused if the
// same action is retried, so a double click or a retry after a lost answer acts only once.
(function () {
  var H = Hotline;
  var ticket = null;
  var myRole = "";  // The signed-in person's role, from the session.
  var pendingRequestIds = {};  // action name -> request_id, until the action succeeds.

  function requestIdFor(action) {
    if (!pendingRequestIds[action]) pendingRequestIds[action] = H.newRequestId();
    return pendingRequestIds[action];
  }

  function showError(text) { document.getElementById("ticket-error").textContent = text || ""; }
  function showNotice(text) { document.getElementById("ticket-notice").textContent = text || ""; }

  function fact(list, term, value) {
    list.appendChild(H.el("dt", { text: term }));
    list.appendChild(H.el("dd", { text: value === undefined || value === "" ? "—" : String(value) }));
  }

  function warningText(level) {
    return level === "WARNING_LEVEL_RED" || level === "WARNING_LEVEL_YELLOW" ? H.zh("warning", level) : "无";
  }

  function renderTicket(t) {
    ticket = t;
    document.getElementById("ticket-view").hidden = false;
    document.getElementById("ticket-title-id").textContent = t.id;
    var facts = document.getElementById("ticket-facts");
    facts.replaceChildren();
    fact(facts, "状态", H.zh("ticketState", t.state));
    fact(facts, "类型", H.zh("kind", t.kind));
    fact(facts, "受理渠道", H.zh("channel", t.channel));
    fact(facts, "紧急程度", H.zh("urgency", t.urgency));
    fact(facts, "分类", t.category_path);
    fact(facts, "诉求内容", t.content);
    fact(facts, "受理时间", H.time(t.create_time));
    fact(facts, "办理期限", H.time(t.deadline));
    fact(facts, "预警", warningText(t.warning_level));
    fact(facts, "办理轮次", t.cycle);
    fact(facts, "版本", t.version);
    facts.lastChild.id = "ticket-version";

    var tbody = document.querySelector("#work-orders tbody");
    var decisions = document.getElementById("extension-decisions");
    decisions.replaceChildren();
    tbody.replaceChildren.apply(tbody, (t.work_orders || []).map(function (w) {
      var ext = w.extension || {};
      var extText = H.zh("extensionState", ext.state);
      if (ext.state === "EXTENSION_STATE_REQUESTED") {
        extText += (ext.reason ? "：" + ext.reason : "");
        decisions.appendChild(extensionForm(w));
      }
      var warning = w.warning_level === "WARNING_LEVEL_RED" || w.warning_level === "WARNING_LEVEL_YELLOW" ?
        H.el("span", { className: "card " + (w.warning_level === "WARNING_LEVEL_RED" ? "red" : "yellow"), text: warningText(w.warning_level) }) :
        "无";
      return H.el("tr", { "data-work-order": w.id }, [
        H.el("td", { text: w.id }),
        H.el("td", { text: w.department_id }),
        H.el("td", { text: H.zh("workOrderRole", w.role) }),
        H.el("td", { text: H.zh("workOrderState", w.state) }),
        H.el("td", { text: H.time(w.deadline) }),
        H.el("td", null, [warning]),
        H.el("td", { className: "number", text: String(w.urge_count || 0) }),
        H.el("td", { text: extText }),
      ]);
    }));
    renderSupplements(t);
    var final = ["TICKET_STATE_CLOSED", "TICKET_STATE_REJECTED", "TICKET_STATE_MERGED"].indexOf(t.state) >= 0;
    document.getElementById("urge-submit").disabled = final;
  }

  // The notes added so far, to everyone who sees the ticket; the form to whoever the table
  // lets add one in the ticket's state.
  function renderSupplements(t) {
    var notes = t.supplements || [];
    var mayAdd = H.allows("supplement", myRole, t);
    document.getElementById("supplement-panel").hidden = !notes.length && !mayAdd;
    document.getElementById("supplement-form").hidden = !mayAdd;
    var list = document.getElementById("supplements");
    list.replaceChildren.apply(list, notes.map(function (n) {
      return H.el("li", null, [
        H.el("span", { className: "when", text: H.time(n.add_time) }),
        H.el("span", { className: "who", text: n.principal || "" }),
        H.el("div", { className: "detail", text: n.text }),
      ]);
    }));
  }

  function extensionForm(w) {
    var ext = w.extension || {};
    var reasonId = "extension-reason-" + w.id;
    var form = H.el("form", { className: "panel extension-decision", "data-work-order": w.id }, [
      H.el("h3", { text: "延期申请：工作单 " + w.id + "（" + w.department_id + "）" }),
      H.el("p", { text: "申请理由：" + (ext.reason || "—") + "；申请延至：" + H.time(ext.requested_deadline) }),
      H.el("div", { className: "form-row" }, [
        H.el("label", { for: reasonId, text: "审批意见（不同意时必填）" }),
        H.el("input", { id: reasonId, type: "text", name: "reason" }),
      ]),
      H.el("div", { className: "form-inline" }, [
        H.el("button", { type: "submit", value: "approve", text: "同意延期" }),
        H.el("button", { type: "submit", value: "refuse", className: "secondary", text: "不同意延期" }),
      ]),
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var decision = event.submitter ? event.submitter.value : "approve";
      var action = "extension:" + w.id + ":" + decision;
      act("/api/tickets/" + encodeURIComponent(ticket.id) + "/extension-decision", action, {
        work_order_id: w.id,
        decision: decision,
        reason: document.getElementById(reasonId).value,
      }, decision === "approve" ? "已同意延期。" : "已不同意延期。");
    });
    return form;
  }

  // The text an event's details carry (a note, a reply, a supplement): whichever details
  // message it has, so an event type added to the service shows without a change here.
  function detailText(e) {
    for (var key in e) {
      var d = e[key];
      if (d && typeof d === "object" && !Array.isArray(d)) {
        if (typeof d.text === "string" && d.text) return d.text;
        if (typeof d.reply_text === "string" && d.reply_text) return d.reply_text;
      }
    }
    return "";
  }

  function renderHistory(events, truncated) {
    var list = document.getElementById("history");
    var items = events.map(function (e) {
      var actor = e.actor || {};
      var who = H.zh("role", actor.role) + (actor.principal ? " " + actor.principal : "");
      var parts = [
        H.el("span", { className: "when", text: H.time(e.event_time) }),
        H.el("span", { className: "what", text: H.zh("eventType", e.type) }),
        H.el("span", { className: "who", text: who }),
      ];
      if (e.department_id) parts.push(H.el("span", { className: "badge", text: e.department_id }));
      var detail = e.reason || detailText(e) || (e.callback && H.zh("callback", e.callback.result)) || "";
      if (detail) parts.push(H.el("div", { className: "detail", text: detail }));
      return H.el("li", { "data-type": e.type, "data-sequence": String(e.sequence) }, parts);
    });
    if (truncated) items.push(H.el("li", { text: "记录过多，仅显示最早的 " + events.length + " 条。" }));
    list.replaceChildren.apply(list, items);
  }

  function load(id, keepMessages) {
    if (!keepMessages) { showError(""); showNotice(""); }
    return Promise.all([
      H.api("/api/tickets/" + encodeURIComponent(id)),
      H.api("/api/tickets/" + encodeURIComponent(id) + "/events"),
    ]).then(function (results) {
      if (!results[0].ok) {
        document.getElementById("ticket-view").hidden = true;
        showError(H.errorMessage(results[0]));
        return;
      }
      renderTicket(results[0].body);
      if (results[1].ok) renderHistory(results[1].body.events || [], !!results[1].body.next_page_token);
      else showError(H.errorMessage(results[1]));
    });
  }

  function act(path, action, body, doneText) {
    showError("");
    showNotice("");
    body.expected_version = Number(ticket.version);
    body.request_id = requestIdFor(action);
    return H.api(path, { method: "POST", body: body }).then(function (result) {
      if (result.ok) {
        delete pendingRequestIds[action];
        showNotice(doneText);
        return load(ticket.id, true).then(function () { return true; });
      }
      var code = result.body && result.body.error && result.body.error.code;
      // Someone changed the ticket first: show the current state; the next try is a new
      // decision, so it gets a new key.
      if (code === "ABORTED" || code === "FAILED_PRECONDITION") {
        delete pendingRequestIds[action];
        load(ticket.id, true);
      }
      showError(H.errorMessage(result));
      var field = result.body && result.body.error && result.body.error.field;
      if (field === "message") document.getElementById("urge-message").focus();
      if (field === "text") document.getElementById("supplement-text").focus();
      return false;
    });
  }

  function loadRecent() {
    H.api("/api/tickets?page_size=10").then(function (result) {
      if (!result.ok) return;
      var list = document.getElementById("recent-tickets");
      list.replaceChildren.apply(list, (result.body.tickets || []).map(function (t) {
        return H.el("li", null, [
          H.el("a", { href: "/ticket.html?id=" + encodeURIComponent(t.id), text: t.id }),
          " " + H.zh("ticketState", t.state) + " · " + (t.content || "").slice(0, 40),
        ]);
      }));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var input = document.getElementById("ticket-id");
    var id = new URLSearchParams(location.search).get("id");
    // The role first, so the first rendering already offers the right forms.
    var signedIn = H.session().then(function (result) {
      myRole = (result.ok && result.body && result.body.role) || "";
    });
    if (id) {
      input.value = id;
      signedIn.then(function () { load(id); });
    }
    document.getElementById("ticket-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var value = input.value.trim();
      if (!value) { showError("请输入工单号。"); input.focus(); return; }
      history.replaceState(null, "", "/ticket.html?id=" + encodeURIComponent(value));
      signedIn.then(function () { load(value); });
    });
    document.getElementById("urge-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (!ticket) return;
      var message = document.getElementById("urge-message");
      act("/api/tickets/" + encodeURIComponent(ticket.id) + "/urge", "urge",
        { message: message.value.trim() }, "督办已发出。").then(function (ok) {
        if (ok) message.value = "";
      });
    });
    document.getElementById("supplement-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (!ticket) return;
      var text = document.getElementById("supplement-text");
      if (!text.value.trim()) { showError("请填写补充说明。"); text.focus(); return; }
      act("/api/tickets/" + encodeURIComponent(ticket.id) + "/supplement", "supplement",
        { text: text.value.trim() }, "补充说明已发送，承办单位可在工作单中看到。").then(function (ok) {
        if (ok) text.value = "";
      });
    });
    loadRecent();
  });
})();
