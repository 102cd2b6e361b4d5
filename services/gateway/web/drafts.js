"use strict";
// 问答提炼: the editors' list of draft Q&A pairs proposed from agents' confirmations. Each
// shows the representative question, the other questions callers asked, and the clause the
// answers came from; the editor words the question and answer and accepts (a Q&A entry linked
// to the clause is created) or dismisses it.
(function () {
  var H = Hotline;
  var pending = {};
  function $(id) { return document.getElementById(id); }

  function draftItem(d) {
    var qId = "q-" + d.id, aId = "a-" + d.id, rId = "r-" + d.id;
    var accept = H.el("button", { type: "button", text: "采纳为问答" });
    var dismiss = H.el("button", { type: "button", className: "secondary", text: "不予采纳" });
    var item = H.el("li", { className: "panel hit", "data-draft-id": d.id }, [
      H.el("h2", { text: d.question }),
      H.el("p", { className: "meta", text: d.confirmations + " 个相似问题用此条款答复 · 依据：" + d.source_title + " " + d.source_passage_label }),
      H.el("p", { className: "snippet", text: d.passage_text }),
      (d.similar_questions || []).length ? H.el("ul", null, d.similar_questions.map(function (q) {
        return H.el("li", { text: q });
      })) : null,
      H.el("div", { className: "form-row wide" }, [
        H.el("label", { for: qId, text: "问题" }),
        H.el("input", { id: qId, type: "text", size: "60" }),
      ]),
      H.el("div", { className: "form-row wide" }, [
        H.el("label", { for: aId, text: "答案" }),
        H.el("textarea", { id: aId, rows: "4", cols: "60" }),
      ]),
      H.el("div", { className: "form-inline" }, [
        accept,
        H.el("div", { className: "form-row" }, [
          H.el("label", { for: rId, text: "不予采纳的理由" }),
          H.el("input", { id: rId, type: "text", size: "30" }),
        ]),
        dismiss,
      ]),
    ]);
    item.querySelector("#" + CSS.escape(qId)).value = d.question;
    item.querySelector("#" + CSS.escape(aId)).value = d.passage_text;
    accept.addEventListener("click", function () {
      if (!pending[d.id]) pending[d.id] = H.newRequestId();
      H.api("/api/kb/drafts/" + encodeURIComponent(d.id) + "/accept", { method: "POST", body: {
        request_id: pending[d.id],
        question: document.getElementById(qId).value.trim(),
        answer: document.getElementById(aId).value.trim(),
      } }).then(function (result) {
        if (!result.ok) { $("drafts-error").textContent = H.errorMessage(result); return; }
        $("drafts-error").textContent = "";
        $("drafts-result").textContent = "已采纳，生成问答 " + result.body.entry.id + "：" + result.body.entry.title;
        load();
      });
    });
    dismiss.addEventListener("click", function () {
      H.api("/api/kb/drafts/" + encodeURIComponent(d.id) + "/dismiss", { method: "POST", body: {
        reason: document.getElementById(rId).value.trim(),
      } }).then(function (result) {
        if (!result.ok) { $("drafts-error").textContent = H.errorMessage(result); return; }
        $("drafts-result").textContent = "已不予采纳：" + d.question;
        load();
      });
    });
    return item;
  }

  function load() {
    return H.api("/api/kb/drafts").then(function (result) {
      if (!result.ok) { $("drafts-error").textContent = H.errorMessage(result); return; }
      var list = $("drafts");
      list.textContent = "";
      var drafts = result.body.drafts || [];
      drafts.forEach(function (d) { list.appendChild(draftItem(d)); });
      $("drafts-status").textContent = drafts.length ? "待处理草稿 " + drafts.length + " 条" : "暂无待处理的问答草稿";
    });
  }

  document.addEventListener("DOMContentLoaded", load);
})();
