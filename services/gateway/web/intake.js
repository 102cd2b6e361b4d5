"use strict";
// The agent's intake console (受理台), open during every call:
//  - screen pop: the caller's number from the address (?caller=..., as a telephony system opens
//    the page) or typed; their earlier tickets, newest first, open ones flagged, and a repeat
//    call (重复来电) when one falls within the configured window;
//  - the knowledge base beside the form, searched as the caller's words are typed (debounced,
//    the stale request cancelled), with the category suggested by the taxonomy classifier and
//    possible duplicates (similar open tickets of the district) listed;
//  - answer on the spot from a hit (创建即办结, cited passage kept, feedback to the knowledge
//    base), or create the ticket for review.
// The caller's words are kept in this tab's storage, so a failed submit or a reload loses
// nothing; they are cleared only once the ticket exists.
(function () {
  var H = Hotline;
  var DRAFT_KEY = "hotline.intakeDraft";
  var DEBOUNCE_MS = 350;

  var settings = null;
  var searchController = null, classifyController = null, similarController = null;
  var typingTimer = null;
  var categoryEditedByAgent = false;
  var chosenHit = null;        // the hit the answer is given from
  var lastSearchId = "";
  var duplicateOf = "";        // the ticket the agent marked as the same matter
  // One request id per intended ticket, reused when a submit is retried after a failure.
  var pendingRequestId = null;

  function $(id) { return document.getElementById(id); }

  // The error region is role=alert: screen readers announce it; the focus stays where it was.
  function showError(message) {
    $("intake-error").textContent = message || "";
  }

  // ---- Draft: the caller's words survive a failed submit and a reload ------------------------

  var DRAFT_FIELDS = ["caller-phone", "caller-name", "kind", "urgency", "district", "address",
                      "content", "category"];
  function saveDraft() {
    var draft = {};
    DRAFT_FIELDS.forEach(function (id) { draft[id] = $(id).value; });
    draft.confidential = $("confidential").checked;
    draft.duplicateOf = duplicateOf;
    try { sessionStorage.setItem(DRAFT_KEY, JSON.stringify(draft)); } catch (e) { /* private mode */ }
  }
  function restoreDraft() {
    var draft = null;
    try { draft = JSON.parse(sessionStorage.getItem(DRAFT_KEY) || "null"); } catch (e) { draft = null; }
    if (!draft) return false;
    DRAFT_FIELDS.forEach(function (id) { if (draft[id] !== undefined) $(id).value = draft[id]; });
    $("confidential").checked = !!draft.confidential;
    duplicateOf = draft.duplicateOf || "";
    categoryEditedByAgent = !!draft.category;
    return true;
  }
  function clearForm() {
    try { sessionStorage.removeItem(DRAFT_KEY); } catch (e) { /* ignore */ }
    DRAFT_FIELDS.forEach(function (id) {
      var node = $(id);
      node.value = node.tagName === "SELECT" ? node.options[0].value : "";
    });
    $("confidential").checked = false;
    duplicateOf = "";
    chosenHit = null;
    categoryEditedByAgent = false;
    pendingRequestId = null;
    $("caller-history").replaceChildren();
    $("caller-status").textContent = "";
    $("repeat-call").hidden = true;
    $("duplicates").replaceChildren();
    $("duplicates-section").hidden = true;
    $("kb-hits").replaceChildren();
    $("kb-status").textContent = "记录来电人诉求后，这里显示相关政策、问答和办事指南。";
    $("category-suggestion").textContent = "";
    $("answer-panel").hidden = true;
    history.replaceState(null, "", "/intake.html");
  }

  // ---- Screen pop --------------------------------------------------------------------------

  function lookUpCaller() {
    var phone = $("caller-phone").value.replace(/[\s-]/g, "");
    $("caller-phone").value = phone;
    var list = $("caller-history");
    list.replaceChildren();
    $("repeat-call").hidden = true;
    if (!phone) {
      $("caller-status").textContent = "";
      return;
    }
    $("caller-status").textContent = "正在查询来电记录…";
    H.api("/api/callers/" + encodeURIComponent(phone) + "/tickets").then(function (result) {
      if (!result.ok) {
        $("caller-status").textContent = "";
        showError(H.errorMessage(result));
        return;
      }
      var body = result.body;
      var tickets = body.tickets || [];
      $("caller-status").textContent = tickets.length ?
        "该号码共有 " + tickets.length + (body.more ? "+" : "") + " 件历史工单（新的在前）。" : "该号码没有历史工单。";
      if (body.repeat_call) {
        $("repeat-call").hidden = false;
        $("repeat-call").textContent = "重复来电：" + body.repeat_call_window_days + " 天内已反映 " +
          body.repeat_of.length + " 件（" + body.repeat_of.join("、") + "），请核实是否同一事项。";
      }
      if (body.last_caller_name && !$("caller-name").value) {
        $("caller-name").value = body.last_caller_name;
        $("caller-name").setAttribute("data-offered", "1");
      }
      tickets.forEach(function (t) {
        var open = ["TICKET_STATE_CLOSED", "TICKET_STATE_REJECTED", "TICKET_STATE_MERGED"].indexOf(t.state) < 0;
        var item = H.el("li", { className: open ? "open" : "", "data-ticket-id": t.id }, [
          H.el("a", { href: "/ticket.html?id=" + encodeURIComponent(t.id), text: t.id }),
          " ",
          H.el("span", { className: "badge" + (open ? " open" : ""), text: (open ? "未办结 · " : "") + H.zh("ticketState", t.state) }),
          t.within_repeat_window ? H.el("span", { className: "badge repeat", text: "窗口期内" }) : null,
          t.confidential ? H.el("span", { className: "badge", text: "保密" }) : null,
          " " + H.time(t.create_time) + " · " + H.zh("kind", t.kind) + "：",
          H.el("span", { className: "content", text: (t.content || "").slice(0, 80) }),
        ]);
        list.appendChild(item);
      });
    });
  }

  // ---- As the caller's words are typed -----------------------------------------------------

  function cancel(controller) { if (controller) controller.abort(); }

  function searchKnowledge(text) {
    cancel(searchController);
    searchController = new AbortController();
    $("kb-status").textContent = "正在检索知识库…";
    H.api("/api/search?page_size=6&q=" + encodeURIComponent(text.slice(0, 200)), { signal: searchController.signal })
      .then(function (result) {
        if (result.aborted) return;
        if (!result.ok) {
          $("kb-status").textContent = H.errorMessage(result);
          return;
        }
        var hits = result.body.hits || [];
        lastSearchId = result.body.search_id || "";
        $("kb-hits").setAttribute("data-search-id", lastSearchId);
        $("kb-status").textContent = hits.length ? "相关内容 " + hits.length + " 条：" : "知识库中没有找到相关内容。";
        $("kb-hits").replaceChildren.apply($("kb-hits"), hits.map(function (hit) {
          return H.KbHits.render(hit, { label: "以此条当场答复", onClick: chooseAnswer });
        }));
      });
  }

  function suggestCategory(text) {
    cancel(classifyController);
    classifyController = new AbortController();
    H.api("/api/classify?text=" + encodeURIComponent(text), { signal: classifyController.signal })
      .then(function (result) {
        if (result.aborted || !result.ok) return;
        var path = result.body.category_path;
        var note = $("category-suggestion");
        if (!path) {
          note.textContent = "";
          return;
        }
        if (!categoryEditedByAgent) $("category").value = path;
        note.textContent = "建议分类：" + path + (categoryEditedByAgent ? "（已保留您选择的分类）" : "");
      });
  }

  function findDuplicates(text) {
    cancel(similarController);
    similarController = new AbortController();
    var district = $("district").value;
    var url = "/api/similar?open_only=1&content=" + encodeURIComponent(text) +
      (district ? "&district_code=" + encodeURIComponent(district) : "");
    H.api(url, { signal: similarController.signal }).then(function (result) {
      if (result.aborted || !result.ok) return;
      var similar = result.body.tickets || [];
      var list = $("duplicates");
      list.replaceChildren();
      $("duplicates-section").hidden = similar.length === 0;
      similar.forEach(function (s) {
        var t = s.ticket;
        var id = "dup-" + t.id;
        var box = H.el("input", { type: "checkbox", id: id, "data-ticket-id": t.id });
        box.checked = duplicateOf === t.id;
        box.addEventListener("change", function () {
          duplicateOf = box.checked ? t.id : "";
          list.querySelectorAll("input[type=checkbox]").forEach(function (other) {
            if (other !== box) other.checked = false;
          });
          saveDraft();
        });
        list.appendChild(H.el("li", null, [
          box, " ",
          H.el("label", { "for": id, text: "与 " + t.id + " 为同一事项" }),
          " （相似度 " + Math.round(s.similarity * 100) + "%，" + H.zh("ticketState", t.state) + "，" + H.time(t.create_time) + "）",
          H.el("span", { className: "content", text: (t.content || "").slice(0, 80) }),
        ]));
      });
    });
  }

  function onContentChanged() {
    saveDraft();
    clearTimeout(typingTimer);
    var text = $("content").value.trim();
    typingTimer = setTimeout(function () {
      if (text.length < 2) return;
      searchKnowledge(text);
      suggestCategory(text);
      if (text.length >= 6) findDuplicates(text);
    }, DEBOUNCE_MS);
  }

  // ---- Submitting --------------------------------------------------------------------------

  function ticketInput() {
    var t = {
      kind: $("kind").value,
      channel: "CHANNEL_HOTLINE",
      urgency: $("urgency").value,
      caller_name: $("caller-name").value.trim(),
      caller_phone: $("caller-phone").value.trim(),
      confidential: $("confidential").checked,
      content: $("content").value.trim(),
      category_path: $("category").value.trim(),
    };
    var district = $("district").value, address = $("address").value.trim();
    if (district || address) t.location = { district_code: district, address: address };
    return t;
  }

  function submit(directAnswer) {
    showError("");
    $("intake-result").textContent = "";
    var ticket = ticketInput();
    if (!ticket.content) {
      showError("请先记录来电人诉求。");
      $("content").focus();
      return;
    }
    if (!directAnswer && duplicateOf) ticket.suspected_duplicate_of = duplicateOf;
    if (!pendingRequestId) pendingRequestId = H.newRequestId();
    var body = { request_id: pendingRequestId, ticket: ticket };
    var url = "/api/tickets";
    if (directAnswer) {
      body.direct_answer = directAnswer;
      url += "?search_id=" + encodeURIComponent(lastSearchId) + "&query=" + encodeURIComponent(ticket.content.slice(0, 200));
    }
    var buttons = [$("create-ticket"), $("answer-submit")];
    buttons.forEach(function (b) { b.disabled = true; });
    H.api(url, { method: "POST", body: body }).then(function (result) {
      buttons.forEach(function (b) { b.disabled = false; });
      if (!result.ok) {
        // Nothing is cleared: the caller's words stay for a retry with the same request id.
        showError(H.errorMessage(result));
        return;
      }
      var t = result.body.ticket;
      var message = directAnswer ?
        "已当场答复并办结，工单号 " + t.id + "。" +
          (result.body.feedback_error ? "（知识库反馈未记录：" + result.body.feedback_error + "）" :
           "已记录为知识库采纳反馈。") :
        "已提交审核，工单号 " + t.id + (t.suspected_duplicate_of ? "（已标记与 " + t.suspected_duplicate_of + " 为同一事项）" : "") + "。";
      clearForm();
      var note = $("intake-result");
      note.replaceChildren(message + " ", H.el("a", { href: "/ticket.html?id=" + encodeURIComponent(t.id), text: "查看工单" }));
      note.setAttribute("data-ticket-id", t.id);
      $("caller-phone").focus();
    });
  }

  function chooseAnswer(hit) {
    chosenHit = hit;
    var panel = $("answer-panel");
    panel.hidden = false;
    var basis = [hit.title];
    if (hit.passage_label) basis.push(hit.passage_label);
    if (hit.doc_number) basis.push("（" + hit.doc_number + "）");
    $("answer-basis").textContent = "答复依据：" + basis.join(" ");
    var snippet = (hit.snippet && hit.snippet.text) || "";
    if (!$("answer-text").value.trim()) $("answer-text").value = snippet;
    $("answer-text").focus();
  }

  function answerOnTheSpot() {
    if (!chosenHit) {
      var first = document.querySelector("#kb-hits .hit-action");
      if (!first) {
        showError("知识库中没有可作答复依据的内容：请提交审核。");
        return;
      }
      first.click();
      return;  // The agent reviews the answer text, then confirms.
    }
    var text = $("answer-text").value.trim();
    if (!text) {
      showError("请填写告知来电人的答复内容。");
      $("answer-text").focus();
      return;
    }
    if (!settings || (settings.direct_answer_kinds || []).indexOf($("kind").value) < 0) {
      showError("只有咨询、求助类诉求可以当场答复办结；请改选诉求类型或提交审核。");
      $("kind").focus();
      return;
    }
    submit({
      answer_text: text,
      citations: [{
        entry_id: chosenHit.entry_id,
        entry_version: chosenHit.entry_version,
        passage_ordinal: chosenHit.passage_ordinal || 0,
        passage_label: chosenHit.passage_label || "",
        title: chosenHit.title || "",
        doc_number: chosenHit.doc_number || "",
      }],
    });
  }

  // ---- Wiring ------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", function () {
    H.api("/api/intake/settings").then(function (result) {
      if (!result.ok) {
        showError(H.errorMessage(result));
        return;
      }
      settings = result.body;
      var select = $("district");
      (settings.districts || []).forEach(function (d) {
        select.appendChild(H.el("option", { value: d.code, text: d.name }));
      });
      var restored = restoreDraft();
      var caller = new URLSearchParams(location.search).get("caller");
      if (caller && caller !== $("caller-phone").value) {
        if (restored && $("content").value.trim()) {
          // A new call arrived while a draft was open: the draft belongs to the earlier caller.
          clearForm();
        }
        $("caller-phone").value = caller;
        saveDraft();
      }
      if ($("caller-phone").value) lookUpCaller();
      if ($("content").value.trim()) onContentChanged();
      $(caller ? "content" : "caller-phone").focus();
    });

    $("caller-form").addEventListener("submit", function (event) {
      event.preventDefault();
      saveDraft();
      lookUpCaller();
    });
    $("content").addEventListener("input", onContentChanged);
    $("district").addEventListener("change", function () { saveDraft(); onContentChanged(); });
    $("category").addEventListener("input", function () { categoryEditedByAgent = true; saveDraft(); });
    ["caller-name", "kind", "urgency", "address"].forEach(function (id) {
      $(id).addEventListener("change", saveDraft);
    });
    $("confidential").addEventListener("change", saveDraft);
    $("create-ticket").addEventListener("click", function () { submit(null); });
    $("answer-submit").addEventListener("click", answerOnTheSpot);
    $("answer-cancel").addEventListener("click", function () {
      chosenHit = null;
      $("answer-panel").hidden = true;
      $("content").focus();
    });
    $("clear-form").addEventListener("click", function () {
      clearForm();
      $("intake-result").textContent = "";
      $("caller-phone").focus();
    });
    document.addEventListener("keydown", function (event) {
      if (!event.altKey || event.ctrlKey || event.metaKey) return;
      var key = event.key.toLowerCase();
      if (key === "a") { event.preventDefault(); answerOnTheSpot(); }
      else if (key === "s") { event.preventDefault(); submit(null); }
      else if (key === "p") { event.preventDefault(); $("caller-phone").focus(); }
      else if (key === "c") { event.preventDefault(); $("content").focus(); }
    });
  });
})();
