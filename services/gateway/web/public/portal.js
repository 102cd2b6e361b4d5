// The citizens' portal: policy search with suggestions, browsing, entry pages with "did this
// answer your question?", online requests and their tracking. One script for the four pages;
// each part starts only where its elements are. Everything is drawn with textContent (H.el),
// never as HTML, since the texts come from documents and citizens.
"use strict";

(function () {
  var H = Hotline;
  var KIND = { ENTRY_KIND_POLICY_DOCUMENT: "政策文件", ENTRY_KIND_QA_PAIR: "问答", ENTRY_KIND_SERVICE_GUIDE: "办事指南" };
  var STATE = {
    ONLINE_REQUEST_STATE_RECEIVED: "已受理，待转办", ONLINE_REQUEST_STATE_IN_PROGRESS: "办理中",
    ONLINE_REQUEST_STATE_REPLIED: "已答复，待回访", ONLINE_REQUEST_STATE_CLOSED: "已办结",
    ONLINE_REQUEST_STATE_NOT_ACCEPTED: "不予受理", ONLINE_REQUEST_STATE_MERGED: "已与相同诉求合并办理",
  };
  var INACTIVE = { ENTRY_STATUS_AMENDED: "已修改", ENTRY_STATUS_REPEALED: "已废止", ENTRY_STATUS_EXPIRED: "已失效" };

  function $(id) { return document.getElementById(id); }
  function entryLink(id, text) { return H.el("a", { href: "/public/entry.html?id=" + encodeURIComponent(id), text: text }); }
  // A link to another entry, marked when that entry is no longer in force (a Q&A pair may still
  // cite a repealed rule; the citizen must see that before relying on it).
  function linkTo(link) {
    var parts = [entryLink(link.target_id, link.target_title)];
    if (link.target_inactive) parts.push(H.el("span", { className: "badge inactive", text: INACTIVE[link.target_status] || "已失效" }));
    return parts;
  }
  // Only web addresses become links: a stored "javascript:" must never run.
  function safeUrl(url) { return /^https?:\/\//i.test(url || "") ? url : ""; }

  // A list item "label：link", the label once even where the title begins with it (a guide's
  // "办事指南：…").
  function labelled(label, l) {
    var said = (l.target_title || "").indexOf(label) === 0 ? [] : [label];
    return H.el("li", {}, said.concat(linkTo(l)));
  }

  // A search hit shows its clause and links; a browsed one (`listing`) only what it is, so that
  // a list of twenty fits a few screens of a phone.
  function hitItem(hit, listing) {
    var facts = [KIND[hit.kind] || ""];
    if (hit.doc_number) facts.push(hit.doc_number);
    if (hit.issuing_agencies && hit.issuing_agencies.length) facts.push(hit.issuing_agencies.join("、"));
    if (hit.publish_date) facts.push(hit.publish_date + " 发布");
    var children = [H.el("h3", {}, [entryLink(hit.entry_id, hit.title)]), H.el("p", { className: "meta", text: facts.join(" · ") })];
    if (listing) return H.el("li", { className: "hit" }, children);
    if (hit.snippet && hit.snippet.text) {
      children.push(H.el("p", { text: (hit.passage_label ? hit.passage_label + "　" : "") + hit.snippet.text }));
    }
    var lad = hit.look_ask_do || {};
    var links = [];
    (lad.qa_pairs || []).forEach(function (l) { links.push(labelled("问答：", l)); });
    (lad.service_guides || []).forEach(function (l) { links.push(labelled("办事指南：", l)); });
    (lad.policies || []).forEach(function (l) { links.push(labelled("依据：", l)); });
    if (safeUrl(hit.online_service_url)) {
      links.push(H.el("li", {}, [H.el("a", { href: safeUrl(hit.online_service_url), rel: "noopener", text: "在线办理" })]));
    }
    if (links.length) children.push(H.el("ul", { className: "links" }, links));
    return H.el("li", { className: "hit" }, children);
  }

  // A list of hits filled page by page: show(url) draws the first page, the `more` button
  // appends the next one and takes the focus to its first hit, so a keyboard user reads on
  // where the new hits begin.
  function pagedHits(list, status, more, empty, listing) {
    var url = "", next = "";
    function draw(result, first) {
      if (first) list.textContent = "";
      more.hidden = true;
      if (!result.ok) { status.textContent = H.errorMessage(result); return; }
      var hits = (result.body && result.body.hits) || [];
      var items = hits.map(function (hit) { return list.appendChild(hitItem(hit, listing)); });
      if (first) status.textContent = hits.length ? "找到 " + (result.body.total_entries || hits.length) + " 条相关内容。" : empty;
      next = result.body.next_page_token || "";
      more.hidden = !next;
      if (!first && items.length) items[0].querySelector("a").focus();
    }
    more.addEventListener("click", function () {
      H.api(url + "&page_token=" + encodeURIComponent(next)).then(function (result) { draw(result, false); });
    });
    return function show(newUrl) {
      url = newUrl;
      return H.api(url).then(function (result) { draw(result, true); return result; });
    };
  }

  function setupSearch() {
    var form = $("search-form");
    if (!form) return;
    var input = $("q"), list = $("suggestions");
    var suggest = H.latestOnly(function (prefix) { return H.api("/api/public/suggest?prefix=" + encodeURIComponent(prefix)); });
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var prefix = input.value.trim();
      if (!prefix) return;
      timer = setTimeout(function () {
        suggest(prefix).then(function (result) {
          if (!result || !result.ok) return;
          list.textContent = "";
          ((result.body && result.body.suggestions) || []).forEach(function (s) { list.appendChild(H.el("option", { value: s.text })); });
        });
      }, 150);
    });
    var searchHits = pagedHits($("results"), $("search-status"), $("results-more"),
                               "没有找到相关内容，您可以换个说法，或者留言咨询。", false);
    var browseHits = pagedHits($("browse-results"), $("browse-status"), $("browse-more"),
                               "这一类暂时没有内容。", true);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var q = input.value.trim();
      $("search-error").textContent = "";
      if (!q) { $("search-error").textContent = "请输入要查询的内容。"; input.focus(); return; }
      $("search-status").textContent = "正在查询……";
      searchHits("/api/public/search?q=" + encodeURIComponent(q));
    });
    // Two lists, not a wall of buttons: on a phone the results must not sit below sixty
    // choices. A list keeps the focus while its choices are redrawn with the new counts.
    var lists = { category: $("browse-category"), agency: $("browse-agency") };
    function load() {
      var query = "?category=" + encodeURIComponent(lists.category.value) + "&agency=" + encodeURIComponent(lists.agency.value);
      browseHits("/api/public/browse" + query).then(function (result) {
        if (result.ok) drawFacets(result.body.facets || []);
      });
    }
    function drawFacets(facets) {
      facets.forEach(function (facet) {
        var list = lists[facet.field === "FACET_FIELD_CATEGORY" ? "category" : "agency"];
        var chosen = list.value;
        var first = list.options[0];
        list.replaceChildren(first);
        (facet.values || []).forEach(function (v) {
          list.appendChild(H.el("option", { value: v.value, text: v.value + "（" + v.count + "）" }));
        });
        list.value = chosen;
      });
    }
    lists.category.addEventListener("change", load);
    lists.agency.addEventListener("change", load);
    load();
  }

  function section(title, body) { return body ? H.el("section", {}, [H.el("h2", { text: title }), H.el("p", { text: body })]) : null; }

  function setupEntry() {
    var article = $("entry");
    if (!article) return;
    var id = new URLSearchParams(location.search).get("id") || "";
    H.api("/api/public/entries/" + encodeURIComponent(id)).then(function (result) {
      if (!result.ok) { $("entry-error").textContent = result.status === 404 ? "没有找到这条内容，可能已被删除。" : H.errorMessage(result); return; }
      var e = result.body;
      document.title = e.title + " - 12345 政务服务便民热线";
      var parts = [H.el("h1", { text: e.title }), H.el("p", { className: "meta", text: KIND[e.kind] || "" })];
      if (e.inactive) {
        var notice = [ "本文件" + (INACTIVE[e.status] || "已不再有效") + "，内容仅供参考。" ];
        if (e.superseded_by) notice.push(entryLink(e.superseded_by, "查看现行版本"));
        parts.push(H.el("p", { className: "repealed", role: "note" }, notice));
      }
      var p = e.policy_document;
      if (p) {
        parts.push(H.el("p", { text: [p.doc_number, (p.issuing_agencies || []).join("、"), p.publish_date ? p.publish_date + " 发布" : ""].filter(Boolean).join(" · ") }));
        (e.passages || []).forEach(function (passage) {
          parts.push(H.el("section", {}, [H.el("h2", { text: passage.label || "" }), H.el("p", { text: passage.text })]));
        });
      }
      var qa = e.qa_pair;
      if (qa) {
        // The question is usually the entry's title already, shown once.
        if (qa.question && qa.question !== e.title) parts.push(H.el("h2", { text: "问：" + qa.question }));
        parts.push(H.el("p", { text: "答：" + qa.answer }));
        if (qa.source_document_id) {
          parts.push(H.el("p", {}, ["依据："].concat(linkTo({ target_id: qa.source_document_id,
            target_title: (qa.source_document_title || "") + " " + (qa.source_passage_label || ""),
            target_status: qa.source_document_status, target_inactive: !!INACTIVE[qa.source_document_status] }))));
        }
      }
      var g = e.service_guide;
      if (g) {
        // Doing it online first: most come to the guide to do just that.
        if (safeUrl(g.online_service_url)) parts.push(H.el("p", {}, [H.el("a", { className: "button", href: safeUrl(g.online_service_url), rel: "noopener", text: "在线办理" })]));
        parts.push(section("办理部门", g.responsible_department));
        parts.push(section("办理条件", g.conditions));
        if (g.materials && g.materials.length) {
          parts.push(H.el("section", {}, [H.el("h2", { text: "申请材料" }), H.el("ul", {}, g.materials.map(function (m) {
            var said = [m.name + (m.required ? "（必需）" : "（视情况提供）")];
            if (m.form) said.push(m.form);
            if (m.note) said.push(m.note);
            return H.el("li", { text: said.join("；") });
          }))]));
        }
        parts.push(section("办理流程", g.procedure));
        parts.push(section("办理时限", g.time_limit_note));
        parts.push(section("收费", g.free_of_charge ? "不收费" : g.fee_description));
        if (g.locations && g.locations.length) {
          parts.push(H.el("section", {}, [H.el("h2", { text: "办理地点" }), H.el("ul", {}, g.locations.map(function (l) {
            return H.el("li", { text: [l.name, l.address, l.opening_hours, l.phone].filter(Boolean).join("；") });
          }))]));
        }
        parts.push(section("咨询电话", g.consultation_phone));
      }
      var related = (e.links || []).map(function (l) { return labelled((KIND[l.target_kind] || "") + "：", l); });
      if (related.length) parts.push(H.el("section", {}, [H.el("h2", { text: "相关内容" }), H.el("ul", {}, related)]));
      parts.forEach(function (node) { if (node) article.appendChild(node); });
      setupFeedback(e);
    });
  }

  function setupFeedback(entry) {
    $("feedback").hidden = false;
    function send(helpful) {
      return H.api("/api/public/feedback", { method: "POST", body: { entry_id: entry.id, helpful: helpful } }).then(function (result) {
        $("feedback-status").textContent = result.ok ? "感谢您的反馈。" : H.errorMessage(result);
      });
    }
    $("feedback-yes").addEventListener("click", function () { send(true); });
    $("feedback-no").addEventListener("click", function () {
      send(false);
      $("feedback-more").hidden = false;
      $("feedback-comment").focus();
    });
    $("to-request").addEventListener("click", function (event) {
      event.preventDefault();
      var text = "关于“" + entry.title + "”：" + $("feedback-comment").value.trim();
      try { sessionStorage.setItem("hotline.requestDraft", text); } catch (e) { /* storage off: the form starts empty */ }
      location.href = "/public/request.html";
    });
  }

  function setupRequest() {
    var form = $("request-form");
    if (!form) return;
    var challenge = null, requestId = H.newRequestId();
    try {
      var draft = sessionStorage.getItem("hotline.requestDraft");
      if (draft) { $("content").value = draft; sessionStorage.removeItem("hotline.requestDraft"); }
    } catch (e) { /* see above */ }
    function ask() {
      return H.api("/api/public/challenge").then(function (result) {
        if (!result.ok) { $("request-error").textContent = H.errorMessage(result); return; }
        challenge = result.body;
        $("challenge-label").textContent = "验证问题：" + challenge.question;
        $("challenge-answer").value = "";
      });
    }
    ask();
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      $("request-error").textContent = "";
      var body = {
        request_id: requestId, kind: $("kind").value, content: $("content").value, address: $("address").value,
        caller_phone: $("phone").value.trim(), caller_name: $("name").value,
        challenge_token: challenge ? challenge.token : "", challenge_answer: $("challenge-answer").value,
      };
      H.api("/api/public/requests", { method: "POST", body: body }).then(function (result) {
        if (!result.ok) {
          $("request-error").textContent = H.errorMessage(result);
          ask();  // Each question answers once; a new one for the next try.
          return;
        }
        form.hidden = true;
        $("tracking-number").textContent = result.body.tracking_number;
        $("query-code").textContent = result.body.query_code;
        $("receipt-track").href = "/public/track.html?number=" + encodeURIComponent(result.body.tracking_number);
        $("receipt").hidden = false;
        $("receipt").focus();
      });
    });
  }

  function setupTrack() {
    var form = $("track-form");
    if (!form) return;
    var number = new URLSearchParams(location.search).get("number");
    if (number) $("tracking").value = number;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      $("track-error").textContent = "";
      var out = $("progress");
      out.textContent = "";
      H.api("/api/public/requests/lookup", { method: "POST", body: { tracking_number: $("tracking").value.trim(), query_code: $("code").value.trim() } }).then(function (result) {
        if (!result.ok) {
          $("track-error").textContent = result.status === 404 ? "没有找到与受理编号和查询码相符的留言，请核对后再试。" : H.errorMessage(result);
          return;
        }
        var r = result.body;
        out.appendChild(H.el("h2", { text: "办理状态：" + (STATE[r.state] || "办理中") }));
        out.appendChild(H.el("p", { text: "提交时间：" + H.time(r.create_time) }));
        out.appendChild(H.el("p", { text: "您的留言：" + r.content }));
        (r.replies || []).forEach(function (reply) {
          out.appendChild(H.el("section", { className: "panel" }, [H.el("h3", { text: "部门答复（" + H.time(reply.reply_time) + "）" }), H.el("p", { text: reply.text })]));
        });
        if (!(r.replies || []).length) out.appendChild(H.el("p", { text: "承办部门尚未答复。" }));
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupSearch(); setupEntry(); setupRequest(); setupTrack();
  });
})();
