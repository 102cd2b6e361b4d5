"use strict";
// Accounts and the audit trail (账号与审计), for admins: create accounts, disable and enable
// them (disabling ends every session of the account), set a new password; list the trail of
// who saw callers' details and who changed what, newest first, filtered.
(function () {
  var H = Hotline;
  var nextBefore = 0;
  // What each recorded action is, in the admins' words; an action not listed shows its code.
  // The ticket actions' labels are the ticket service's table's (/ticket_vocabulary.js).
  var ACTIONS = Object.assign({
    view_ticket: "查看工单详情", view_ticket_history: "查看办理记录", view_caller_tickets: "查看来电人历史工单",
    login: "登录", login_failed: "登录失败", logout: "退出登录", change_password: "修改密码",
    create_account: "创建账号", disable_account: "停用账号", enable_account: "启用账号",
    reset_password: "重设密码", create_ticket: "受理登记", "extension-decision": "延期审批",
  }, (window.HOTLINE_TICKET_VOCABULARY || {}).action || {});
  function $(id) { return document.getElementById(id); }
  function showError(m) { $("admin-error").textContent = m || ""; }
  function showResult(m) { $("admin-result").textContent = m || ""; }

  function accountAction(username, action, body) {
    showError(""); showResult("");
    return H.api("/api/admin/accounts/" + encodeURIComponent(username) + "/" + action,
                 { method: "POST", body: body || {} }).then(function (result) {
      if (!result.ok) { showError(H.errorMessage(result)); return; }
      showResult({ disable: "已停用账号 ", enable: "已启用账号 ", "reset-password": "已重设密码：" }[action] + username);
      loadAccounts();
    });
  }

  function loadAccounts() {
    return H.api("/api/admin/accounts").then(function (result) {
      if (!result.ok) { showError(H.errorMessage(result)); return; }
      var body = $("accounts");
      body.textContent = "";
      (result.body.accounts || []).forEach(function (a) {
        var toggle = H.el("button", { type: "button", className: "secondary",
          text: a.disabled ? "启用" : "停用", "aria-label": (a.disabled ? "启用 " : "停用 ") + a.username });
        toggle.addEventListener("click", function () { accountAction(a.username, a.disabled ? "enable" : "disable"); });
        var reset = H.el("button", { type: "button", className: "secondary", text: "重设密码", "aria-label": "重设密码 " + a.username });
        reset.addEventListener("click", function () {
          var password = window.prompt("为 " + a.username + " 设置新密码（至少 10 位）：");
          if (password) accountAction(a.username, "reset-password", { new_password: password });
        });
        body.appendChild(H.el("tr", { "data-username": a.username }, [
          H.el("th", { scope: "row", text: a.username }),
          H.el("td", { text: a.display_name || "" }),
          H.el("td", { text: H.zh("role", a.role) }),
          H.el("td", { text: a.department_id || "" }),
          H.el("td", { text: a.disabled ? "已停用" : "正常" }),
          H.el("td", { text: H.time(a.last_login_time) }),
          H.el("td", null, [toggle, " ", reset]),
        ]));
      });
    });
  }

  function loadAudit(more) {
    var params = new URLSearchParams();
    if ($("audit-principal").value.trim()) params.set("principal", $("audit-principal").value.trim());
    if ($("audit-ticket").value.trim()) params.set("ticket_id", $("audit-ticket").value.trim());
    if ($("audit-action").value.trim()) params.set("action", $("audit-action").value.trim());
    params.set("page_size", "100");
    if (more && nextBefore) params.set("before_sequence", String(nextBefore));
    return H.api("/api/admin/audit?" + params.toString()).then(function (result) {
      if (!result.ok) { showError(H.errorMessage(result)); return; }
      var body = $("audit");
      if (!more) body.textContent = "";
      (result.body.entries || []).forEach(function (e) {
        body.appendChild(H.el("tr", { "data-sequence": String(e.sequence) }, [
          H.el("td", { className: "number", text: String(e.sequence) }),
          H.el("td", { text: H.time(e.time) }),
          H.el("td", { text: e.principal || "" }),
          H.el("td", { text: H.zh("role", e.role) }),
          H.el("td", { text: e.client_address || "" }),
          H.el("td", { text: ACTIONS[e.action] || e.action || "", title: e.action || "" }),
          H.el("td", { text: e.ticket_id || "" }),
          H.el("td", { text: e.detail || "" }),
        ]));
      });
      nextBefore = H.num(result.body.next_before_sequence);
      $("audit-more").hidden = !nextBefore;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("account-form").addEventListener("submit", function (event) {
      event.preventDefault();
      showError(""); showResult("");
      var role = $("account-role").value;
      var account = { username: $("account-username").value.trim(), display_name: $("account-display-name").value.trim(), role: role };
      if (role === "ROLE_DEPARTMENT") account.department_id = $("account-department").value.trim();
      H.api("/api/admin/accounts", { method: "POST", body: { account: account, password: $("account-password").value } })
        .then(function (result) {
          if (!result.ok) { showError(H.errorMessage(result)); return; }
          showResult("已创建账号 " + result.body.username);
          $("account-password").value = "";
          loadAccounts();
        });
    });
    $("audit-form").addEventListener("submit", function (event) { event.preventDefault(); loadAudit(false); });
    $("audit-more").addEventListener("click", function () { loadAudit(true); });
    loadAccounts();
    loadAudit(false);
  });
})();
