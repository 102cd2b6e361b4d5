// Shared by every page. Loaded in <head> without defer so that the remembered display modes
// apply before the first paint (no flash of small text for someone who needs large text).
"use strict";

(function applyRememberedDisplayModes() {
  var root = document.documentElement;
  try {
    if (localStorage.getItem("hotline.largeFont") === "1") root.classList.add("large-font");
    if (localStorage.getItem("hotline.highContrast") === "1") root.classList.add("high-contrast");
  } catch (e) {
    // Storage may be disabled; the toggles still work for this page.
  }
})();

var Hotline = (function () {
  var ZH = {
    metricsWorkOrderState: {
      WORK_ORDER_STATE_AWAITING_SIGN: "待签收",
      WORK_ORDER_STATE_IN_PROGRESS: "办理中",
      WORK_ORDER_STATE_EXTENSION_REQUESTED: "延期申请中",
      WORK_ORDER_STATE_RETURN_REQUESTED: "退单申请中",
      WORK_ORDER_STATE_AWAITING_CALLBACK: "待回访",
    },
    ticketState: {
      TICKET_STATE_PENDING_REVIEW: "待审核",
      TICKET_STATE_PENDING_DISPATCH: "待派单",
      TICKET_STATE_IN_PROGRESS: "办理中",
      TICKET_STATE_PENDING_REDISPATCH: "待改派",
      TICKET_STATE_PENDING_CALLBACK: "待回访",
      TICKET_STATE_CLOSED: "已办结",
      TICKET_STATE_REJECTED: "不予受理",
      TICKET_STATE_MERGED: "已并单",
    },
    workOrderState: {
      WORK_ORDER_STATE_PENDING_SIGN: "待签收",
      WORK_ORDER_STATE_SIGNED: "已签收，办理中",
      WORK_ORDER_STATE_RETURNED: "已申请退单",
      WORK_ORDER_STATE_REDISPATCHED: "已改派",
      WORK_ORDER_STATE_REPLIED: "已答复",
      WORK_ORDER_STATE_CANCELLED: "已取消",
    },
    kind: {
      TICKET_KIND_CONSULTATION: "咨询",
      TICKET_KIND_HELP_REQUEST: "求助",
      TICKET_KIND_SUGGESTION: "建议",
      TICKET_KIND_COMPLAINT: "投诉",
      TICKET_KIND_REPORT: "举报",
      TICKET_KIND_UNRESOLVED_MATTER: "办不成事",
    },
    channel: {
      CHANNEL_HOTLINE: "12345热线",
      CHANNEL_MAYOR_MAILBOX: "市长信箱",
      CHANNEL_SERVICE_WINDOW: "服务窗口",
      CHANNEL_WEB: "网上留言",
    },
    urgency: { URGENCY_NORMAL: "一般", URGENCY_URGENT: "紧急", URGENCY_EMERGENCY: "特急" },
    warning: { WARNING_LEVEL_NONE: "无", WARNING_LEVEL_YELLOW: "黄牌", WARNING_LEVEL_RED: "红牌" },
    role: {
      ROLE_AGENT: "话务员", ROLE_REVIEWER: "审核派单员", ROLE_DEPARTMENT: "承办单位",
      ROLE_SUPERVISOR: "督办", ROLE_EDITOR: "知识库编辑", ROLE_ADMIN: "管理员", ROLE_SYSTEM: "系统",
      ROLE_PUBLIC: "市民门户",
      ROLE_CALLBACK: "回访员",
    },
    workOrderRole: { WORK_ORDER_ROLE_LEAD: "主办", WORK_ORDER_ROLE_ASSIST: "协办" },
    extensionState: {
      EXTENSION_STATE_NONE: "无",
      EXTENSION_STATE_REQUESTED: "待审批",
      EXTENSION_STATE_APPROVED: "已同意",
      EXTENSION_STATE_REFUSED: "未同意",
      EXTENSION_STATE_WITHDRAWN: "已撤回",
    },
    callback: {
      CALLBACK_RESULT_SATISFIED: "满意",
      CALLBACK_RESULT_BASICALLY_SATISFIED: "基本满意",
      CALLBACK_RESULT_DISSATISFIED: "不满意",
      CALLBACK_RESULT_UNREACHABLE: "未接通",
      CALLBACK_RESULT_DECLINED: "拒绝评价",
    },
    // From the ticket service's table (services/ticket/transitions.h), served as
    // /ticket_vocabulary.js before this file.
    eventType: (window.HOTLINE_TICKET_VOCABULARY || {}).eventType || {},
    entryKind: {
      ENTRY_KIND_POLICY_DOCUMENT: "政策文件",
      ENTRY_KIND_QA_PAIR: "问答",
      ENTRY_KIND_SERVICE_GUIDE: "办事指南",
      ENTRY_KIND_HOT_TOPIC: "热点",
    },
    roleName: {
      agent: "话务员", reviewer: "审核派单员", department: "承办单位", supervisor: "督办",
      editor: "知识库编辑", admin: "管理员", callback: "回访员",
    },
    entryStatus: {
      ENTRY_STATUS_IN_FORCE: "现行有效",
      ENTRY_STATUS_AMENDED: "已修改",
      ENTRY_STATUS_REPEALED: "已废止",
      ENTRY_STATUS_EXPIRED: "已失效",
      ENTRY_STATUS_NOT_YET_EFFECTIVE: "尚未生效",
    },
  };

  function zh(table, value) {
    return (ZH[table] && ZH[table][value]) || value || "—";
  }

  // Proto JSON writes 64-bit integers as strings.
  function num(value) {
    var n = Number(value);
    return isFinite(n) ? n : 0;
  }

  function percent(rate) {
    if (!rate || !rate.has_value) return "—";
    return (rate.value * 100).toFixed(1) + "%";
  }

  var timeFormat = new Intl.DateTimeFormat("zh-CN", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });
  function time(ts) {
    if (!ts) return "—";
    var d = new Date(ts);
    if (isNaN(d.getTime()) || d.getTime() <= 0) return "—";
    return timeFormat.format(d);
  }

  // request_id for one intended operation: letters, digits and '-' (what the ticket service
  // accepts). getRandomValues works on plain http too, unlike crypto.randomUUID.
  function newRequestId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    var hex = Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
    return "web-" + hex;
  }

  // A list that is polled and also refreshed after each action: calls can overlap, and a slow
  // poll answering after a newer refresh would put the older list back (the order signed a
  // moment ago shown unsigned again, and the next action sent with its old version). The
  // function returned hands on only the answer of the latest call; earlier ones give null.
  function latestOnly(start) {
    var issued = 0;
    return function () {
      var mine = ++issued;
      return start.apply(null, arguments).then(function (result) {
        return mine === issued ? result : null;
      });
    };
  }

  // Several calls of one page may learn at once that the session is gone: the first sends the
  // user to the login page, the others must not start the navigation again (a second load of
  // the login page would swallow what the user began to type).
  var leaving = false;
  function goToLogin() {
    if (leaving) return;
    leaving = true;
    var next = location.pathname + location.search;
    location.href = "/login.html?next=" + encodeURIComponent(next);
  }

  // Calls the gateway's JSON API. Resolves to {ok, status, body}; a 401 (no session, or the
  // token was revoked) sends the user to the login page.
  function api(path, options) {
    options = options || {};
    var init = { method: options.method || "GET", credentials: "same-origin", headers: {} };
    // An AbortController's signal cancels a request that has gone stale (typing moved on).
    if (options.signal) init.signal = options.signal;
    if (options.body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    return fetch(path, init).then(function (response) {
      return response.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
        if (response.status === 401 && !options.noLoginRedirect) goToLogin();
        return { ok: response.ok, status: response.status, body: body };
      });
    }, function (error) {
      if (error && error.name === "AbortError") return { ok: false, aborted: true, status: 0, body: null };
      return { ok: false, status: 0, body: { error: { code: "UNAVAILABLE", message: "无法连接网关，请检查网络后重试。" } } };
    });
  }

  function errorMessage(result) {
    if (result.body && result.body.error && result.body.error.message) return result.body.error.message;
    return "请求失败（HTTP " + result.status + "）。";
  }

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    if (attributes) {
      Object.keys(attributes).forEach(function (key) {
        if (key === "text") node.textContent = attributes[key];
        else if (key === "className") node.className = attributes[key];
        else node.setAttribute(key, attributes[key]);
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function setupDisplayToggles() {
    var root = document.documentElement;
    [["toggle-large-font", "large-font", "hotline.largeFont"],
     ["toggle-high-contrast", "high-contrast", "hotline.highContrast"]].forEach(function (t) {
      var button = document.getElementById(t[0]);
      if (!button) return;
      button.setAttribute("aria-pressed", root.classList.contains(t[1]) ? "true" : "false");
      button.addEventListener("click", function () {
        var on = !root.classList.contains(t[1]);
        root.classList.toggle(t[1], on);
        button.setAttribute("aria-pressed", on ? "true" : "false");
        try { localStorage.setItem(t[2], on ? "1" : "0"); } catch (e) { /* see above */ }
      });
    });
    setupReadAloud();
    var logout = document.getElementById("logout");
    if (logout) {
      logout.addEventListener("click", function () {
        api("/api/logout", { method: "POST", body: {}, noLoginRedirect: true }).then(function () {
          location.href = "/login.html";
        });
      });
    }
  }

  // Voice reading (语音朗读): reads the selected text, or else the element that had the focus
  // before the button was pressed (the button itself takes the focus when clicked), with the
  // browser's own speech synthesis. Alt+R reads the focused element without leaving it.
  var lastFocused = null;
  function textToRead() {
    var selection = window.getSelection ? String(window.getSelection()) : "";
    if (selection.trim()) return selection.trim();
    var node = lastFocused;
    if (!node || !document.contains(node)) node = document.querySelector("main h1");
    if (!node) return "";
    var text = "";
    if (node.tagName === "INPUT" || node.tagName === "TEXTAREA" || node.tagName === "SELECT") {
      var label = node.labels && node.labels.length ? node.labels[0].textContent : "";
      var value = node.tagName === "SELECT"
        ? (node.selectedOptions[0] ? node.selectedOptions[0].textContent : "") : node.value;
      text = (label ? label + "：" : "") + (value || "空");
    } else {
      text = node.getAttribute("aria-label") || node.innerText || node.textContent || "";
    }
    return text.replace(/\s+/g, " ").trim();
  }
  function readAloud() {
    var text = textToRead();
    var status = document.getElementById("read-aloud-status");
    if (!window.speechSynthesis || !window.SpeechSynthesisUtterance) {
      if (status) status.textContent = "此浏览器不支持语音朗读。";
      return;
    }
    window.speechSynthesis.cancel();
    if (!text) return;
    var utterance = new SpeechSynthesisUtterance(text.slice(0, 4000));
    utterance.lang = "zh-CN";
    utterance.rate = 0.9;
    window.speechSynthesis.speak(utterance);
  }
  function setupReadAloud() {
    var button = document.getElementById("read-aloud");
    document.addEventListener("focusin", function (event) {
      if (event.target !== button) lastFocused = event.target;
    });
    document.addEventListener("keydown", function (event) {
      if (event.altKey && (event.key === "r" || event.key === "R")) {
        event.preventDefault();
        lastFocused = document.activeElement;
        readAloud();
      }
    });
    if (!button) return;
    var status = el("p", { id: "read-aloud-status", className: "visually-hidden", role: "status" });
    button.parentNode.appendChild(status);
    button.addEventListener("click", readAloud);
  }

  // Who is signed in, once per page: {role, principal, landing, pages, supervisor}.
  var sessionPromise = null;
  function session() {
    if (!sessionPromise) sessionPromise = api("/api/session");
    return sessionPromise;
  }

  // Every signed-in page: the navigation offers only the consoles of the user's role, and a
  // page the role does not work in sends the user to their own console rather than show an
  // empty shell.
  function applyRole() {
    // The citizens' portal has no sign-in: nothing to ask, nowhere to send anyone.
    if (location.pathname === "/login.html" || document.body.hasAttribute("data-public")) return;
    session().then(function (result) {
      if (!result.ok || !result.body) return;
      var pages = result.body.pages || [];
      document.querySelectorAll("header.site nav li").forEach(function (item) {
        var link = item.querySelector("a");
        item.hidden = !!link && pages.indexOf(link.getAttribute("href")) < 0;
      });
      if (pages.length && pages.indexOf(location.pathname) < 0 && result.body.landing && !leaving) {
        leaving = true;
        location.replace(result.body.landing);
        return;
      }
      var who = document.getElementById("who");
      if (who) who.textContent = (result.body.display_name || result.body.principal) + "（" + zh("roleName", result.body.role) + "）";
    });
  }

  // Whether the service's table (served as /ticket_vocabulary.js) lets `role` take the console
  // route `route` on ticket `t`, and on work order `w` when the route names one: which forms a
  // page offers. The service still decides.
  function allows(route, role, t, w) {
    var r = ((window.HOTLINE_TICKET_VOCABULARY || {}).route || {})[route];
    if (!r || r.roles.indexOf(role) < 0) return false;
    if (r.ticket_states.length && (!t || r.ticket_states.indexOf(t.state) < 0)) return false;
    if (r.work_order_states.length && (!w || r.work_order_states.indexOf(w.state) < 0)) return false;
    return true;
  }

  // A span of `hours` in days of `hoursPerDay` hours ("天", or "个工作日" when a department
  // counts working time), hours and minutes, largest units first: "2 天 3 小时",
  // "1 小时 5 分钟", "45 分钟", "不到 1 分钟" (never "0 小时 0 分钟").
  function spanText(hours, hoursPerDay, dayWord) {
    var days = Math.floor(hours / hoursPerDay);
    var rest = Math.floor(hours % hoursPerDay);
    var minutes = Math.floor((hours * 60) % 60);
    if (days > 0) return days + " " + dayWord + " " + rest + " 小时";
    if (rest > 0) return rest + " 小时 " + minutes + " 分钟";
    return minutes > 0 ? minutes + " 分钟" : "不到 1 分钟";
  }

  // A deadline as the time left, for people who plan their day by it: "剩 2 天 3 小时",
  // "剩 45 分钟", "已超期 1 天 2 小时"; level "red" when passed, "yellow" within `warnHours`.
  function deadlineText(ts, warnHours, now) {
    if (!ts) return { text: "—", level: "" };
    var left = new Date(ts).getTime() - (now || Date.now());
    var span = spanText(Math.abs(left) / 3600000, 24, "天");
    if (left < 0) return { text: "已超期 " + span, level: "red" };
    return { text: "剩 " + span, level: left <= (warnHours || 24) * 3600000 ? "yellow" : "" };
  }

  document.addEventListener("DOMContentLoaded", setupDisplayToggles);
  document.addEventListener("DOMContentLoaded", applyRole);

  return {
    zh: zh, num: num, percent: percent, time: time, newRequestId: newRequestId, api: api,
    errorMessage: errorMessage, el: el, goToLogin: goToLogin, session: session, allows: allows,
    readAloud: readAloud, deadlineText: deadlineText, spanText: spanText, latestOnly: latestOnly,
  };
})();
