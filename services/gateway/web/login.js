"use strict";
// Login: the gateway checks the token with a real call to the services and, if it is valid,
// keeps it in an HttpOnly cookie that page scripts cannot read.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("login-form");
  var input = document.getElementById("token");
  var error = document.getElementById("login-error");
  var submit = document.getElementById("login-submit");
  var username = document.getElementById("username");
  var password = document.getElementById("password");
  var passwordSubmit = document.getElementById("password-submit");
  username.focus();

  // Only pages of this site: the login page must not be usable to send users elsewhere.
  // Browsers read "/\\host", "/\t/host" and the like as another origin, so the address is
  // resolved as the browser would and its origin compared, rather than its first characters.
  function nextPage(session) {
    var fallback = (session && session.landing) || "/search.html";
    var next = new URLSearchParams(location.search).get("next");
    if (!next || next.charAt(0) !== "/" || /[\\\u0000-\u001f\u007f]/.test(next)) return fallback;
    var target;
    try {
      target = new URL(next, location.origin);
    } catch (e) {
      return fallback;
    }
    if (target.origin !== location.origin || target.pathname === "/login.html") return fallback;
    return target.pathname + target.search + target.hash;
  }

  document.getElementById("password-form").addEventListener("submit", function (event) {
    event.preventDefault();
    error.textContent = "";
    var name = username.value.trim();
    if (!name || !password.value) {
      error.textContent = "请输入用户名和密码。";
      (name ? password : username).focus();
      return;
    }
    passwordSubmit.disabled = true;
    Hotline.api("/api/session", { method: "POST", body: { username: name, password: password.value }, noLoginRedirect: true })
      .then(function (result) {
        passwordSubmit.disabled = false;
        if (result.ok) {
          location.href = nextPage(result.body);
          return;
        }
        password.value = "";
        password.setAttribute("aria-invalid", "true");
        // 401 never says whether the name exists; 429 says how long to wait.
        error.textContent = result.status === 401 ? "用户名或密码错误。" : Hotline.errorMessage(result);
        password.focus();
      });
  });

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
          location.href = nextPage(result.body);
          return;
        }
        input.setAttribute("aria-invalid", "true");
        error.textContent = result.status === 401 ? "令牌无效或已失效，请核对后重新粘贴。" : Hotline.errorMessage(result);
        input.focus();
      });
  });
});
