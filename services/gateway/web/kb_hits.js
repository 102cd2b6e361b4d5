"use strict";
// How a knowledge-base hit is shown, on the search page and beside the intake form: the title
// and snippet with the matched words marked, kind, status and document number (文号), the
// clause it comes from, and the linked policies, Q&A pairs and service guides (look, ask, do).
Hotline.KbHits = (function () {
  var H = Hotline;

  // Highlights are code-point offsets; JavaScript strings index UTF-16 units, so the text is
  // split into code points first (rare CJK extension characters take two units).
  function highlighted(text, ranges) {
    var points = Array.from(text || "");
    var out = [];
    var at = 0;
    (ranges || []).forEach(function (r) {
      var start = Math.max(at, r.start || 0), end = Math.min(points.length, r.end || 0);
      if (end <= start) return;
      if (start > at) out.push(points.slice(at, start).join(""));
      out.push(H.el("mark", { text: points.slice(start, end).join("") }));
      at = end;
    });
    if (at < points.length) out.push(points.slice(at).join(""));
    return out;
  }

  function linkList(title, links, className) {
    if (!links || !links.length) return null;
    return H.el("div", { className: className }, [
      H.el("h4", { text: title }),
      H.el("ul", null, links.map(function (l) {
        var label = l.target_title + (l.target_passage_label ? "（" + l.target_passage_label + "）" : "");
        var children = [label];
        if (l.target_inactive) children.push(H.el("span", { className: "badge inactive", text: H.zh("entryStatus", l.target_status) }));
        if (l.target_online_service_url) {
          children.push(" ");
          children.push(H.el("a", { href: l.target_online_service_url, rel: "noopener noreferrer", text: "网上办理" }));
        }
        return H.el("li", null, children);
      })),
    ]);
  }

  // `action`, if given: {label, onClick(hit)}, a button under the hit (the intake console's
  // "answer from this").
  function renderHit(hit, action) {
    var snippet = hit.snippet || {};
    var source = [];
    if (hit.passage_headings && hit.passage_headings.length) source.push(hit.passage_headings.join(" › "));
    if (hit.passage_label) source.push(hit.passage_label);
    var meta = [H.el("span", { className: "badge", text: H.zh("entryKind", hit.kind) })];
    meta.push(H.el("span", { className: "badge" + (hit.inactive ? " inactive" : ""), text: H.zh("entryStatus", hit.status) }));
    if (hit.doc_number) meta.push(H.el("span", { className: "badge", text: hit.doc_number }));
    // Why agents can trust a lifted hit: how many similar questions it answered.
    if (hit.ranking_note) meta.push(H.el("span", { className: "badge confirmed", text: hit.ranking_note }));
    // Citizens' answers on the portal (editors, supervisors and admins get them): a guide
    // many find unhelpful needs an editor's look.
    var cf = hit.citizen_feedback;
    if (cf && (Number(cf.helpful) || Number(cf.not_helpful))) {
      meta.push(H.el("span", { className: "badge citizen-feedback", text: "市民反馈：有用 " + Number(cf.helpful) + " · 没有解答 " + Number(cf.not_helpful) }));
    }
    if (hit.issuing_agencies && hit.issuing_agencies.length) meta.push(hit.issuing_agencies.join("、") + " ");
    if (hit.publish_date) meta.push("发布 " + hit.publish_date);

    var body = [
      H.el("h3", null, highlighted(hit.title, hit.title_highlights)),
      H.el("p", { className: "meta" }, meta),
      H.el("p", { className: "snippet" }, [snippet.starts_mid_passage ? "…" : ""]
        .concat(highlighted(snippet.text, snippet.highlights))
        .concat([snippet.ends_mid_passage ? "…" : ""])),
    ];
    if (source.length) body.push(H.el("p", { className: "source" }, [H.el("strong", { text: "出处条款：" }), source.join(" ")]));
    if (hit.answer_source && hit.answer_source.target_title) {
      body.push(H.el("p", { className: "answer-source" }, [H.el("strong", { text: "答案依据：" }),
        hit.answer_source.target_title + (hit.answer_source.target_passage_label ? " " + hit.answer_source.target_passage_label : "")]));
    }
    if (hit.inactive) {
      body.push(H.el("p", { className: "alert", text: "此条已不是现行有效内容，请勿作为现行政策答复来电人。" }));
    }
    if (hit.online_service_url) {
      body.push(H.el("p", null, [H.el("a", { href: hit.online_service_url, rel: "noopener noreferrer", text: "网上办理入口" })]));
    }
    var lad = hit.look_ask_do || {};
    var links = [linkList("看：相关政策", lad.policies, "links-policies"),
                 linkList("问：相关问答", lad.qa_pairs, "links-qa"),
                 linkList("办：办事指南", lad.service_guides, "links-guides")].filter(Boolean);
    if (links.length) body.push(H.el("div", { className: "links" }, links));
    if (action) {
      var button = H.el("button", { type: "button", className: "hit-action", text: action.label });
      button.addEventListener("click", function () { action.onClick(hit, button); });
      body.push(H.el("p", null, [button]));
    }
    return H.el("li", null, [H.el("article", { className: "hit panel", "data-entry-id": hit.entry_id,
      "data-passage-ordinal": String(hit.passage_ordinal || 0) }, body)]);
  }

  return { render: renderHit };
})();
