"use strict";
// The reviewer's dispatch console (派单台): four live queues (to review, to dispatch, returned
// work orders to re-route, extension requests awaiting a decision), refreshed every few
// seconds without a reload, and the selected ticket's work: confirm with corrections, reject,
// merge into a similar open ticket, dispatch to the suggested departments (each with its
// reasons: the category route, and who handled similar tickets), re-route a returned order.
(function () {
  var H = Hotline;
  var POLL_MS = 2000;
  var QUEUES = ["pending_review", "pending_dispatch", "pending_redispatch", "extension_requests"];

  var settings = null;
  var selected = null;        // the ticket being worked on, as last read
  var selectedQueue = "";
  // Bumped by every render: an answer that arrives for an earlier render is dropped, so two
  // quick selections never leave one ticket's suggestions on another's form.
  var generation = 0;
  // One request id per intended operation on the selected ticket; reused on a retry.
  var pending = {};

  function $(id) { return document.getElementById(id); }
  function departmentName(id) {
    var d = ((settings && settings.departments) || []).filter(function (x) { return x.id === id; })[0];
    return d ? d.name : id;
  }
  function requestId(op) {
    var key = op + ":" + (selected ? selected.id + "@" + selected.version : "");
    if (!pending[key]) pending[key] = H.newRequestId();
    return pending[key];
  }

  function showError(message) { $("dispatch-error").textContent = message || ""; }
  function showResult(message) { $("dispatch-result").textContent = message || ""; }

  // ---- Queues ------------------------------------------------------------------------------

  function queueItem(t, queue) {
    var button = H.el("button", { type: "button", className: "queue-item", "data-ticket-id": t.id }, [
      H.el("strong", { text: t.id }), " ",
      H.el("span", { className: "badge", text: H.zh("kind", t.kind) }),
      t.urgency && t.urgency !== "URGENCY_NORMAL" ? H.el("span", { className: "badge inactive", text: H.zh("urgency", t.urgency) }) : null,
      t.suspected_duplicate_of ? H.el("span", { className: "badge", text: "疑似重复" }) : null,
      H.el("span", { className: "content", text: (t.content || "").slice(0, 60) }),
    ]);
    if (selected && selected.id === t.id) button.setAttribute("aria-current", "true");
    button.addEventListener("click", function () { select(t.id, queue); });
    return H.el("li", null, [button]);
  }

  var fetchQueues = H.latestOnly(function () { return H.api("/api/queues"); });

  function refreshQueues() {
    return fetchQueues().then(function (result) {
      if (!result) return;  // A newer refresh is on its way.
      if (!result.ok) {
        $("queues-status").textContent = "队列刷新失败：" + H.errorMessage(result);
        return;
      }
      QUEUES.forEach(function (name) {
        var q = result.body[name] || { tickets: [] };
        $("count-" + name).textContent = q.tickets.length + (q.more ? "+" : "");
        // A queue is redrawn only when it changed: redrawing every few seconds would take the
        // keyboard focus away from the ticket a reviewer is about to open.
        var key = q.tickets.map(function (t) { return t.id + "@" + t.version; }).join(",") +
          "|" + (selected ? selected.id : "");
        var list = $("queue-" + name);
        if (list.getAttribute("data-key") === key) return;
        list.setAttribute("data-key", key);
        var focused = document.activeElement && list.contains(document.activeElement) ?
          document.activeElement.getAttribute("data-ticket-id") : null;
        list.replaceChildren.apply(list, q.tickets.map(function (t) { return queueItem(t, name); }));
        if (focused) {
          var again = list.querySelector('.queue-item[data-ticket-id="' + focused + '"]');
          if (again) again.focus();
        }
      });
      $("queues-status").textContent = "队列更新于 " + H.time(new Date().toISOString());
    });
  }

  // ---- The selected ticket -----------------------------------------------------------------

  function fact(label, value) {
    return [H.el("dt", { text: label }), H.el("dd", null, [value])];
  }

  function currentOrders(t) {
    return (t.work_orders || []).filter(function (w) {
      return Number(w.cycle) === Number(t.cycle) &&
        w.state !== "WORK_ORDER_STATE_REDISPATCHED" && w.state !== "WORK_ORDER_STATE_CANCELLED";
    });
  }

  function select(id, queue) {
    showError("");
    H.api("/api/tickets/" + encodeURIComponent(id)).then(function (result) {
      if (!result.ok) {
        showError(H.errorMessage(result));
        return;
      }
      selected = result.body;
      selectedQueue = queue;
      render();
    });
  }

  function render() {
    ++generation;
    var t = selected;
    $("work-empty").hidden = true;
    $("work-ticket").hidden = false;
    $("work-ticket").setAttribute("data-ticket-id", t.id);
    $("work-link").href = "/ticket.html?id=" + encodeURIComponent(t.id);
    var facts = [].concat(
      fact("工单号", t.id),
      fact("状态", H.zh("ticketState", t.state)),
      fact("类型", H.zh("kind", t.kind) + " · " + H.zh("urgency", t.urgency) + " · " + H.zh("channel", t.channel)),
      fact("分类", t.category_path || "未分类"),
      fact("地点", ((t.location && t.location.address) || "") + (t.location && t.location.district_code ? "（" + t.location.district_code + "）" : "")),
      fact("来电人", (t.caller_name || "匿名") + (t.confidential ? "（保密）" : "")),
      fact("受理时间", H.time(t.create_time)),
      fact("诉求内容", t.content));
    $("work-facts").replaceChildren.apply($("work-facts"), facts);
    var flag = $("work-duplicate-flag");
    flag.hidden = !t.suspected_duplicate_of;
    flag.textContent = t.suspected_duplicate_of ? "话务员标记：与 " + t.suspected_duplicate_of + " 为同一事项，请核实后并单。" : "";

    var review = t.state === "TICKET_STATE_PENDING_REVIEW";
    var dispatch = t.state === "TICKET_STATE_PENDING_DISPATCH";
    var redispatch = t.state === "TICKET_STATE_PENDING_REDISPATCH";
    $("review-form").hidden = !review;
    $("dispatch-form").hidden = !(dispatch || redispatch);
    $("extension-info").hidden = selectedQueue !== "extension_requests";
    if (review) renderReview(t);
    if (dispatch || redispatch) renderDispatch(t, redispatch);
    if (selectedQueue === "extension_requests") {
      var asking = (t.work_orders || []).filter(function (w) {
        return w.extension && w.extension.state === "EXTENSION_STATE_REQUESTED";
      });
      $("extension-info").textContent = asking.map(function (w) {
        return departmentName(w.department_id) + " 申请延期：" + (w.extension.reason || "") +
          "（申请延至 " + H.time(w.extension.requested_deadline) + "，由督办人员在工单详情中审批）";
      }).join("；");
    }
  }

  function renderReview(t) {
    $("review-kind").value = t.kind;
    $("review-urgency").value = t.urgency;
    $("review-category").value = t.category_path || "";
    $("reject-reason").value = "";
    var list = $("merge-targets");
    list.replaceChildren(H.el("li", { text: "正在查找相似工单…" }));
    var mine = generation;
    H.api("/api/tickets/" + encodeURIComponent(t.id) + "/similar").then(function (result) {
      if (mine !== generation) return;
      list.replaceChildren();
      if (!result.ok) {
        list.appendChild(H.el("li", { text: H.errorMessage(result) }));
        return;
      }
      var similar = (result.body.tickets || []).slice();
      // The agent's own judgement first.
      similar.sort(function (a, b) {
        var fa = a.ticket.id === t.suspected_duplicate_of || a.ticket.suspected_duplicate_of === t.id;
        var fb = b.ticket.id === t.suspected_duplicate_of || b.ticket.suspected_duplicate_of === t.id;
        return (fb ? 1 : 0) - (fa ? 1 : 0);
      });
      if (!similar.length) list.appendChild(H.el("li", { text: "没有相似的未办结工单。" }));
      similar.forEach(function (s) {
        var target = s.ticket;
        var flagged = target.id === t.suspected_duplicate_of || target.suspected_duplicate_of === t.id;
        var button = H.el("button", { type: "button", className: "secondary merge-into", "data-target-id": target.id,
          text: "并入 " + target.id });
        button.addEventListener("click", function () { merge(target.id); });
        list.appendChild(H.el("li", { "data-ticket-id": target.id }, [
          button, " ",
          flagged ? H.el("span", { className: "badge", text: "话务员标记为同一事项" }) : null,
          "相似度 " + Math.round(s.similarity * 100) + "% · " + H.zh("ticketState", target.state) + " · ",
          H.el("span", { className: "content", text: (target.content || "").slice(0, 80) }),
        ]));
      });
    });
  }

  function renderDispatch(t, redispatch) {
    $("dispatch-heading").textContent = redispatch ? "改派" : "派单";
    $("dispatch-ticket").hidden = redispatch;
    $("redispatch-ticket").hidden = !redispatch;
    $("refuse-return-row").hidden = !redispatch;
    $("assists-fieldset").hidden = redispatch;
    $("lead-days").value = "";
    $("instructions").value = "";
    $("refuse-reason").value = "";
    var returned = redispatch ? currentOrders(t).filter(function (w) { return w.state === "WORK_ORDER_STATE_RETURNED"; })[0] : null;
    var info = $("return-info");
    info.hidden = !returned;
    info.textContent = returned ? departmentName(returned.department_id) + " 退单：" + (returned.return_reason || "") : "";
    if (returned) info.setAttribute("data-work-order-id", returned.id);

    var lead = $("lead");
    // No department is chosen until the reviewer or the top suggestion chooses one.
    lead.replaceChildren.apply(lead, [H.el("option", { value: "", text: "（请选择）" })].concat(
      ((settings && settings.departments) || []).map(function (d) {
        return H.el("option", { value: d.id, text: d.name });
      })));
    var assists = $("assists");
    assists.replaceChildren.apply(assists, ((settings && settings.departments) || []).map(function (d) {
      var id = "assist-" + d.id;
      return H.el("span", null, [H.el("input", { type: "checkbox", id: id, value: d.id }), " ",
        H.el("label", { "for": id, text: d.name })]);
    }));
    var list = $("suggestions");
    list.replaceChildren(H.el("li", { text: "正在计算建议承办单位…" }));
    var mine = generation;
    H.api("/api/tickets/" + encodeURIComponent(t.id) + "/suggestions").then(function (result) {
      if (mine !== generation) return;
      list.replaceChildren();
      if (!result.ok) {
        list.appendChild(H.el("li", { text: H.errorMessage(result) }));
        return;
      }
      var suggestions = (result.body.suggestions || []).filter(function (s) {
        // A returned order goes to someone else.
        return !returned || s.department_id !== returned.department_id;
      });
      if (!suggestions.length) list.appendChild(H.el("li", { text: "暂无建议，请按职责选择。" }));
      suggestions.forEach(function (s, i) {
        var id = "suggestion-" + s.department_id;
        var radio = H.el("input", { type: "radio", name: "suggestion", id: id, value: s.department_id });
        radio.addEventListener("change", function () { lead.value = s.department_id; });
        if (i === 0) {
          radio.checked = true;
          lead.value = s.department_id;
        }
        list.appendChild(H.el("li", { "data-department-id": s.department_id }, [
          radio, " ", H.el("label", { "for": id, text: s.department_name || departmentName(s.department_id) }),
          H.el("span", { className: "reasons", text: "：" + (s.reasons || []).map(function (r) { return r.text; }).join("；") }),
        ]));
      });
    });
  }

  // ---- Actions -----------------------------------------------------------------------------

  function act(op, body, done) {
    showError("");
    showResult("");
    body.expected_version = selected.version;
    body.request_id = requestId(op);
    return H.api("/api/tickets/" + encodeURIComponent(selected.id) + "/" + op, { method: "POST", body: body })
      .then(function (result) {
        if (!result.ok) {
          showError(H.errorMessage(result));
          if (result.status === 409) select(selected.id, selectedQueue);  // Changed meanwhile.
          return;
        }
        selected = result.body;
        showResult(done(result.body));
        refreshQueues();
        render();
      });
  }

  function merge(targetId) {
    act("merge", { target_ticket_id: targetId, reason: "同一事项，并单办理" }, function (t) {
      return "工单 " + t.id + " 已并入 " + targetId + "。";
    });
  }

  function limitFromForm() {
    var days = parseInt($("lead-days").value, 10);
    return days > 0 ? { working_days: days } : undefined;
  }

  document.addEventListener("DOMContentLoaded", function () {
    H.api("/api/intake/settings").then(function (result) {
      if (result.ok) settings = result.body;
      else showError(H.errorMessage(result));
      refreshQueues();
      setInterval(refreshQueues, POLL_MS);
    });
    $("confirm-ticket").addEventListener("click", function () {
      var body = {};
      if ($("review-kind").value !== selected.kind) body.kind = $("review-kind").value;
      if ($("review-urgency").value !== selected.urgency) body.urgency = $("review-urgency").value;
      var category = $("review-category").value.trim();
      if (category && category !== selected.category_path) body.category_path = category;
      act("confirm", body, function (t) { return "工单 " + t.id + " 审核通过，待派单。"; });
    });
    $("reject-ticket").addEventListener("click", function () {
      var reason = $("reject-reason").value.trim();
      if (!reason) {
        showError("请填写不予受理的理由。");
        $("reject-reason").focus();
        return;
      }
      act("reject", { reason: reason }, function (t) { return "工单 " + t.id + " 已不予受理。"; });
    });
    function leadChosen() {
      if ($("lead").value) return true;
      showError("请选择主办单位。");
      $("lead").focus();
      return false;
    }
    $("dispatch-ticket").addEventListener("click", function () {
      if (!leadChosen()) return;
      var lead = { department_id: $("lead").value };
      var limit = limitFromForm();
      if (limit) lead.time_limit = limit;
      var assists = [];
      document.querySelectorAll("#assists input:checked").forEach(function (box) {
        if (box.value !== lead.department_id) assists.push({ department_id: box.value });
      });
      var body = { lead: lead, assists: assists };
      var instructions = $("instructions").value.trim();
      if (instructions) body.instructions = instructions;
      act("dispatch", body, function (t) {
        return "工单 " + t.id + " 已派至 " + departmentName(lead.department_id) + "。";
      });
    });
    $("redispatch-ticket").addEventListener("click", function () {
      if (!leadChosen()) return;
      var workOrder = $("return-info").getAttribute("data-work-order-id");
      var assignment = { department_id: $("lead").value };
      var limit = limitFromForm();
      if (limit) assignment.time_limit = limit;
      var body = { work_order_id: workOrder, assignment: assignment };
      var instructions = $("instructions").value.trim();
      if (instructions) body.instructions = instructions;
      act("redispatch", body, function (t) {
        return "工单 " + t.id + " 已改派至 " + departmentName(assignment.department_id) + "。";
      });
    });
    $("refuse-return").addEventListener("click", function () {
      var reason = $("refuse-reason").value.trim();
      if (!reason) {
        showError("请填写不同意退单的理由。");
        $("refuse-reason").focus();
        return;
      }
      act("refuse-return", { work_order_id: $("return-info").getAttribute("data-work-order-id"), reason: reason },
        function (t) { return "已不同意退单，工单 " + t.id + " 退回原承办单位。"; });
    });
  });
})();
