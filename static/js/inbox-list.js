// The conversation list's triage tools (inbox.js does the list's live refresh and the thread):
//   - tab counts and the unread badge in the title, refetched after live events at most every 2 s;
//   - the search box's "Clear search";
//   - ticking rows, "select all", and the action bar (assign / team / label / status), which asks
//     before acting on more than a handful;
//   - alerts for new customer messages: a desktop notification (asked for by a click, never on page
//     load) and a sound (off by default), both remembered in this browser (localStorage).
(function () {
  "use strict";
  const inbox = document.getElementById("inbox");
  if (!inbox) return;

  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));
  const openConversation = () => { const t = $("#thread"); return t && t.dataset.conversation ? Number(t.dataset.conversation) : null; };

  // ------------------------------------------------------------ counts and the title badge

  const counts = { unread: Number(inbox.dataset.unread || 0) };
  $$("[data-count]").forEach((el) => { if (el.textContent.trim() !== "") counts[el.dataset.count] = Number(el.textContent); });
  const COUNTS_EVERY_MS = 2000;   // a storm of events costs each browser one count query per 2 s
  let countsTimer = null;
  let countsAt = 0;

  function showCounts() {
    $$("[data-count]").forEach((el) => {
      const value = counts[el.dataset.count];
      el.textContent = value === undefined ? "" : String(value);
    });
    const title = document.title.replace(/^\(\d+\) /, "");
    document.title = counts.unread > 0 ? "(" + counts.unread + ") " + title : title;
  }

  async function fetchCounts() {
    countsTimer = null;
    countsAt = Date.now();
    try {
      const response = await fetch(inbox.dataset.countsUrl, { credentials: "same-origin" });
      if (!response.ok) return;
      Object.assign(counts, await response.json());
      showCounts();
    } catch (err) { /* offline: the next event or the reconnect fetches them again */ }
  }

  function scheduleCounts() {
    if (countsTimer) return;
    countsTimer = setTimeout(fetchCounts, Math.max(300, COUNTS_EVERY_MS - (Date.now() - countsAt)));
  }

  // ------------------------------------------------------------ alerts: notification and sound

  const store = {
    get: (key) => { try { return localStorage.getItem(key); } catch (err) { return null; } },
    set: (key, value) => { try { localStorage.setItem(key, value); } catch (err) { /* private mode */ } },
  };
  const alerts = $("#list-alerts");
  const notifyButton = $("#notify-toggle");
  const soundButton = $("#sound-toggle");
  let audio = null;

  const notifying = () => "Notification" in window && Notification.permission === "granted" && store.get("sampark.notify") === "on";
  const sounding = () => store.get("sampark.sound") === "on";

  function showAlertButtons() {
    if (!alerts) return;
    alerts.hidden = false;
    if (!("Notification" in window)) {
      notifyButton.hidden = true;
    } else if (Notification.permission === "denied") {
      notifyButton.textContent = "Desktop notifications: blocked in this browser's site settings";
      notifyButton.disabled = true;
    } else {
      notifyButton.textContent = "Desktop notifications: " + (notifying() ? "on" : "off");
      notifyButton.setAttribute("aria-pressed", notifying() ? "true" : "false");
    }
    soundButton.textContent = "Sound: " + (sounding() ? "on" : "off");
    soundButton.setAttribute("aria-pressed", sounding() ? "true" : "false");
  }

  function playSound() {
    if (!soundButton) return;
    audio = audio || new Audio(soundButton.dataset.sound);
    audio.currentTime = 0;
    audio.play().catch(() => { /* the browser wants a click on the page first */ });
  }

  if (notifyButton) notifyButton.addEventListener("click", async function () {
    if (notifying()) {
      store.set("sampark.notify", "off");
    } else {
      const permission = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
      store.set("sampark.notify", permission === "granted" ? "on" : "off");
    }
    showAlertButtons();
  });

  if (soundButton) soundButton.addEventListener("click", function () {
    store.set("sampark.sound", sounding() ? "off" : "on");
    showAlertButtons();
    if (sounding()) playSound();   // a sample, and this click lets the page play sounds later
  });

  function waitForListRefresh() {
    return new Promise((resolve) => {
      const done = () => { document.removeEventListener("inbox:list-refreshed", done); clearTimeout(timer); resolve(); };
      const timer = setTimeout(done, 1500);
      document.addEventListener("inbox:list-refreshed", done);
    });
  }

  async function notify(conversation) {
    await waitForListRefresh();   // the row then shows who wrote and what (if it is in this list)
    const row = document.getElementById("conv-" + conversation);
    const name = row ? $(".conv-name", row).textContent : "A customer";
    const text = row ? $(".conv-preview", row).textContent : "New message in a conversation you can see.";
    let notification;
    try {
      notification = new Notification(name, { body: text, tag: "conversation-" + conversation });
    } catch (err) {
      return;   // Chrome on Android only notifies through a service worker
    }
    notification.onclick = function () {
      window.focus();
      location.assign("/inbox/" + conversation + "/");
    };
  }

  function alertNewMessage(conversation) {
    if (!document.hidden && conversation === openConversation()) return;   // the agent is reading it
    if (sounding()) playSound();
    if (notifying()) notify(conversation);
  }

  // ------------------------------------------------------------ live events

  document.addEventListener("sampark:event", function (e) {
    const { event, payload } = e.detail;
    if (!payload || !payload.conversation) return;
    if (event === "message.created" || event === "conversation.updated") scheduleCounts();
    if (event === "message.created" && payload.direction === "in") alertNewMessage(payload.conversation);
  });
  document.addEventListener("sampark:reconnected", scheduleCounts);

  // ------------------------------------------------------------ search

  document.body.addEventListener("click", function (e) {
    if (!e.target.closest("#search-clear")) return;
    const box = $("#conv-search");
    box.value = "";
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
  });

  // ------------------------------------------------------------ choosing rows and acting on them

  const bulk = $("#bulk-form");
  const dialog = $("#bulk-confirm");
  const ticked = () => $$("#conv-list .conv-check:checked");

  function showBar() {
    if (!bulk) return;
    const chosen = ticked().length;
    const all = $$("#conv-list .conv-check");
    bulk.hidden = chosen === 0;
    $("#bulk-count").textContent = chosen + " selected";
    const selectAll = $("#bulk-all");
    selectAll.checked = chosen > 0 && chosen === all.length;
    selectAll.indeterminate = chosen > 0 && chosen < all.length;
  }

  function resetActions() {
    $$("select", bulk).forEach((select) => { select.value = ""; });
    bulk.elements.action.value = "";
  }

  function clearChoice() {
    ticked().forEach((box) => { box.checked = false; });
    resetActions();
    showBar();
  }

  function describe(action, control) {
    const chosen = ticked().length + " conversations";
    const option = control.tagName === "SELECT" ? control.selectedOptions[0].textContent : control.textContent;
    if (action === "assign") return "Assign " + chosen + " to " + option + "?";
    if (action === "team") return "Move " + chosen + " to " + option + "?";
    if (action === "label") return "Label " + chosen + " " + option + "?";
    return "Mark " + chosen + " " + option.toLowerCase() + "?";
  }

  function act(action, control) {
    if (control.tagName === "BUTTON") bulk.elements.status.value = control.dataset.value;   // "Resolve"
    bulk.elements.action.value = action;
    const max = Number(bulk.dataset.max);
    if (ticked().length > max) {
      $("#bulk-result").textContent = "Choose at most " + max + " conversations at once.";
      return resetActions();
    }
    if (ticked().length <= Number(bulk.dataset.confirmOver)) return bulk.requestSubmit();
    $("#bulk-confirm-text").textContent = describe(action, control);
    dialog.returnValue = "";
    dialog.showModal();
  }

  if (bulk) {
    document.body.addEventListener("change", function (e) {
      if (e.target.classList.contains("conv-check")) showBar();
    });
    $("#bulk-all").addEventListener("change", function () {
      const on = this.checked;
      $$("#conv-list .conv-check").forEach((box) => { box.checked = on; });
      showBar();
    });
    $("#bulk-clear").addEventListener("click", clearChoice);
    $$("select[data-action]", bulk).forEach((select) => select.addEventListener("change", function () {
      if (select.value) act(select.dataset.action, select);
    }));
    $$("button[data-action]", bulk).forEach((button) => button.addEventListener("click", () => act(button.dataset.action, button)));
    dialog.addEventListener("close", function () {
      if (dialog.returnValue === "ok") bulk.requestSubmit(); else resetActions();
    });
    document.body.addEventListener("htmx:beforeSwap", function (e) {
      // A refusal (400/403) carries its reason: show it instead of dropping it.
      if (e.detail.elt === bulk && e.detail.xhr.status < 500) {
        e.detail.shouldSwap = true;
        e.detail.isError = false;
      }
    });
    document.body.addEventListener("htmx:afterRequest", function (e) {
      if (e.detail.elt === bulk) resetActions();
    });
    document.body.addEventListener("inbox:bulk-done", function () {
      clearChoice();
      document.dispatchEvent(new CustomEvent("inbox:refresh-list"));
      scheduleCounts();
    });
    document.addEventListener("inbox:list-refreshed", showBar);
    // x ticks the row the keyboard is on (j/k move, as in inbox.js).
    document.addEventListener("keydown", function (e) {
      if (e.key !== "x" || e.ctrlKey || e.metaKey || e.altKey) return;
      const row = document.activeElement && document.activeElement.closest && document.activeElement.closest("#conv-list .conv");
      if (!row) return;
      const box = $(".conv-check", row);
      box.checked = !box.checked;
      showBar();
      e.preventDefault();
    });
  }

  document.body.addEventListener("htmx:afterSettle", function (e) {
    if (e.detail.target && e.detail.target.id === "conv-list-pane") { showCounts(); showBar(); }   // new filters, same counts
  });

  showCounts();
  showAlertButtons();
})();
