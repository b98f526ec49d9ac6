// The inbox screen: htmx does the requests; this file reacts to live events from live.js
// ("sampark:event") by refetching the small partials that changed, catches up after a reconnect
// ("sampark:reconnected"), and adds keyboard shortcuts (j/k move, Enter open, a assign to me,
// e resolve, n note, Esc leave a field).
(function () {
  "use strict";
  const inbox = document.getElementById("inbox");
  if (!inbox) return;

  let lastEventAt = inbox.dataset.now;   // server time of the newest event we know about
  let listTimer = null;

  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));
  const openConversation = () => { const t = $("#thread"); return t && t.dataset.conversation ? Number(t.dataset.conversation) : null; };
  const messageUrl = (id) => inbox.dataset.messageUrl.replace(/0\/$/, id + "/");

  function parse(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  async function get(url) {
    const response = await fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" });
    return response;
  }

  // ------------------------------------------------------------ conversation list

  function listUrl() {
    const pane = $("#conv-list-pane");
    const query = new URLSearchParams(pane ? pane.dataset.query : "");
    query.set("pages", pane ? pane.dataset.pages || "1" : "1");
    return inbox.dataset.listUrl + "?" + query.toString();
  }

  function markActive() {
    const open = openConversation();
    $$("#conv-list .conv").forEach((row) => {
      const active = Number(row.dataset.conversation) === open;
      row.classList.toggle("active", active);
      row.setAttribute("aria-selected", active ? "true" : "false");
    });
  }

  async function refreshList() {
    const url = listUrl();
    const response = await get(url);
    if (!response.ok || url !== listUrl()) return;  // the filters changed meanwhile: this answer is stale
    const fresh = parse(await response.text()).querySelector("#conv-list");
    const current = $("#conv-list");
    if (!fresh || !current) return;
    const scroll = current.scrollTop;
    const focusedId = document.activeElement && document.activeElement.closest && document.activeElement.closest(".conv")
      ? document.activeElement.closest(".conv").id : null;
    const ticked = new Set($$(".conv-check:checked", current).map((box) => box.value));   // the action bar's choice
    current.replaceWith(fresh);
    htmx.process(fresh);
    $$(".conv-check", fresh).forEach((box) => { box.checked = ticked.has(box.value); });
    fresh.scrollTop = scroll;
    markActive();
    if (focusedId && document.getElementById(focusedId)) document.getElementById(focusedId).querySelector("a").focus();
    document.dispatchEvent(new CustomEvent("inbox:list-refreshed"));   // inbox-list.js
  }

  function scheduleListRefresh() {
    clearTimeout(listTimer);
    listTimer = setTimeout(refreshList, 120);   // a burst of events becomes one refetch
  }

  // ------------------------------------------------------------ thread

  function nearBottom(box) { return box.scrollHeight - box.scrollTop - box.clientHeight < 80; }
  function scrollToBottom() { const box = $("#messages"); if (box) box.scrollTop = box.scrollHeight; }

  function dedupeDays() {
    const seen = new Set();
    $$("#messages .day").forEach((day) => {
      if (seen.has(day.dataset.day)) day.remove(); else seen.add(day.dataset.day);
    });
  }

  async function showMessage(id) {
    const box = $("#messages");
    if (!box) return;
    const response = await get(messageUrl(id));
    if (response.status !== 200) return;
    const fragment = parse(await response.text());
    const bubble = fragment.querySelector("[data-message]");
    if (!bubble) return;
    const existing = document.getElementById(bubble.id);
    if (existing) {               // a tick moved, a download finished, a reaction arrived
      existing.replaceWith(bubble);
      htmx.process(bubble);
      return;
    }
    const stick = nearBottom(box);
    $$(".empty", box).forEach((el) => el.remove());
    const nodes = Array.from(fragment.children);
    nodes.forEach((node) => box.appendChild(node));
    nodes.forEach((node) => htmx.process(node));
    dedupeDays();
    if (stick) scrollToBottom();
  }

  async function refreshPart(selector, urlAttr) {
    const el = $(selector);
    if (!el) return;
    if (el.contains(document.activeElement) && document.activeElement.tagName === "SELECT") return;   // mid-choice
    const url = el.dataset[urlAttr];
    if (!url) return;
    const response = await get(url);
    if (response.status === 404) return threadGone();
    if (!response.ok) return;
    const fresh = parse(await response.text()).querySelector(selector);
    if (fresh) { el.replaceWith(fresh); htmx.process(fresh); }
  }

  function refreshHeader() { return refreshPart("#thread-head", "headerUrl"); }

  function threadGone() {
    const thread = $("#thread");
    if (!thread) return;
    thread.innerHTML = '<div class="thread-empty"><p class="empty" role="status">This conversation is no longer visible to you.</p></div>';
    thread.dataset.conversation = "";
  }

  function refreshThread() {
    const open = openConversation();
    if (!open) return;
    htmx.ajax("GET", "/inbox/" + open + "/thread/", { target: "#thread", swap: "outerHTML" });
  }

  function markRead(conversation) {
    if (document.visibilityState !== "visible") return;
    const token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
    fetch("/inbox/" + conversation + "/read/", { method: "POST", headers: { "X-CSRFToken": token }, credentials: "same-origin" });
  }

  // ------------------------------------------------------------ live events

  document.addEventListener("sampark:event", function (e) {
    const { event, payload, ts } = e.detail;
    if (ts && (!lastEventAt || ts > lastEventAt)) lastEventAt = ts;
    const conversation = payload && payload.conversation;
    if (!conversation) return;
    if (event === "message.created" || event === "message.updated" || event === "conversation.updated") scheduleListRefresh();
    if (conversation !== openConversation()) return;
    if (event === "message.created" || event === "message.updated") {
      showMessage(payload.message);
      if (event === "message.created" && payload.direction === "in") markRead(conversation);
    } else if (event === "conversation.updated") {
      refreshHeader();
      refreshPart("#contact-panel", "panelUrl");
    }
  });

  document.addEventListener("inbox:refresh-list", scheduleListRefresh);   // asked by inbox-list.js

  document.addEventListener("sampark:reconnected", async function () {
    // Whatever happened while the socket was down: refetch the list, and the open thread if it changed.
    scheduleListRefresh();
    try {
      const response = await get(inbox.dataset.catchUpUrl + "?since=" + encodeURIComponent(lastEventAt || ""));
      if (!response.ok) return refreshThread();
      const data = await response.json();
      lastEventAt = data.now;
      if (data.conversations.includes(openConversation())) refreshThread();
    } catch (err) {
      refreshThread();
    }
  });

  // ------------------------------------------------------------ htmx glue

  document.body.addEventListener("htmx:beforeRequest", function (e) {
    const older = e.detail.elt.closest && e.detail.elt.closest(".older");
    if (older) { const box = $("#messages"); box.dataset.keepFrom = box.scrollHeight - box.scrollTop; }
  });

  document.body.addEventListener("htmx:afterSwap", function (e) {
    const box = $("#messages");
    if (box && box.dataset.keepFrom) {   // older messages went in above: keep the reader where they were
      box.scrollTop = box.scrollHeight - Number(box.dataset.keepFrom);
      delete box.dataset.keepFrom;
      dedupeDays();
    }
    if (e.detail.elt && e.detail.elt.id === "note-form") {
      const field = $("#note-body");
      if (field && !field.value) field.focus();
    }
  });

  document.body.addEventListener("htmx:afterSettle", function (e) {
    if (e.detail.target && e.detail.target.id === "thread") { markActive(); scrollToBottom(); }
    if (e.detail.target && e.detail.target.id === "conv-list-pane") {
      // Filters changed: remember them for live refetches and the address bar.
      const pane = $("#conv-list-pane");
      const query = pane ? pane.dataset.query : "";
      history.replaceState(history.state, "", location.pathname + (query ? "?" + query : ""));
      markActive();
    }
  });

  // ------------------------------------------------------------ keyboard

  function moveSelection(step) {
    const rows = $$("#conv-list .conv a");
    if (!rows.length) return;
    const current = rows.indexOf(document.activeElement);
    const start = current === -1 ? rows.findIndex((a) => a.closest(".conv").classList.contains("active")) : current;
    const next = Math.max(0, Math.min(rows.length - 1, (start === -1 ? -1 : start) + step));
    rows[next].focus();
    rows[next].scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || e.target.isContentEditable) {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    if (e.key === "j") { moveSelection(1); e.preventDefault(); }
    else if (e.key === "k") { moveSelection(-1); e.preventDefault(); }
    else if (e.key === "a") { const b = $('#thread-head [data-key="a"]'); if (b) { b.click(); e.preventDefault(); } }
    else if (e.key === "e") { const b = $('#thread-head [data-key="e"]'); if (b) { b.click(); e.preventDefault(); } }
    else if (e.key === "n") { const f = $("#note-body"); if (f) { f.focus(); e.preventDefault(); } }
  });

  markActive();
  scrollToBottom();
})();
