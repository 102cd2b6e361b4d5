"use strict";
// Login: the gateway checks the token with a real call to the services and, if it is valid,
// keeps it in an HttpOnly cookie that page scripts cannot read.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("login-form");
  var input = document.getElementById("token");
  var error = document.getElementById("login-error");
  var submit = document.getElementById("login-submit");
  input.focus();

  // Only same-site paths: the login page must not be usable to send users elsewhere.
  function nextPage(supervisor) {
    var next = new URLSearchParams(location.search).get("next");
    if (next && next.charAt(0) === "/" && next.charAt(1) !== "/" && next.indexOf("/login.html") !== 0) {
      return next;
    }
    return supervisor ? "/overview.html" : "/search.html";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    error.textContent = "";
    var token = input.value.trim();
    if (!token) {
      error.textContent = "请粘贴访问令牌。";
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    submit.disabled = true;
    Hotline.api("/api/session", { method: "POST", body: { token: token }, noLoginRedirect: true })
      .then(function (result) {
        submit.disabled = false;
        if (result.ok) {
          location.href = nextPage(result.body && result.body.supervisor);
          return;
        }
        input.setAttribute("aria-invalid", "true");
        error.textContent = result.status === 401 ? "令牌无效或已失效，请核对后重新粘贴。" : Hotline.errorMessage(result);
        input.focus();
      });
  });
});
