"use strict";
// Knowledge-base search for agents: hits with the matched words marked, the clause they come
// from, and the linked policies, Q&A pairs and service guides ("look, ask, do").
(function () {
  var H = Hotline;
  var KbHits = Hotline.KbHits;

  function search(query, mode, includeInactive) {
    var error = document.getElementById("search-error");
    var status = document.getElementById("search-status");
    var results = document.getElementById("results");
    error.textContent = "";
    status.textContent = "正在检索…";
    var url = "/api/search?q=" + encodeURIComponent(query) + "&mode=" + encodeURIComponent(mode) +
      (includeInactive ? "&include_inactive=1" : "");
    H.api(url).then(function (result) {
      if (!result.ok) {
        status.textContent = "";
        error.textContent = H.errorMessage(result);
        results.replaceChildren();
        return;
      }
      var hits = result.body.hits || [];
      status.textContent = hits.length ? "共找到 " + H.num(result.body.total_entries) + " 条相关内容，显示前 " + hits.length + " 条。" :
        "没有找到相关内容，请换个说法再试。";
      results.replaceChildren.apply(results, hits.map(function (hit) { return KbHits.render(hit); }));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("search-form");
    var q = document.getElementById("q");
    var mode = document.getElementById("mode");
    var inactive = document.getElementById("include-inactive");
    var params = new URLSearchParams(location.search);
    if (params.get("q")) {
      q.value = params.get("q");
      if (params.get("mode")) mode.value = params.get("mode");
      inactive.checked = params.get("include_inactive") === "1";
      search(q.value, mode.value, inactive.checked);
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var query = q.value.trim();
      if (!query) {
        document.getElementById("search-error").textContent = "请输入查询内容。";
        q.focus();
        return;
      }
      var next = "?q=" + encodeURIComponent(query) + "&mode=" + mode.value + (inactive.checked ? "&include_inactive=1" : "");
      history.replaceState(null, "", "/search.html" + next);
      search(query, mode.value, inactive.checked);
    });
  });
})();
