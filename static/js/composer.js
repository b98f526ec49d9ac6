// The reply composer (inbox/_composer.html): Reply / Private note modes, kinds of message, the attached
// file, emoji, /canned replies, quoting, live template preview.
// Everything is delegated from document, so it keeps working after htmx swaps the composer.
(function () {
  "use strict";

  function composer() { return document.getElementById("composer"); }

  function activate(tab) {
    const box = composer();
    if (!box) return;
    box.querySelectorAll("[role=tab]").forEach(t => t.setAttribute("aria-selected", String(t.dataset.tab === tab)));
    box.querySelectorAll("fieldset[data-panel]").forEach(function (panel) {
      const on = panel.dataset.panel === tab;
      panel.hidden = !on;
      panel.disabled = !on;
    });
    const kind = box.querySelector("input[name=kind]");
    if (kind) kind.value = tab;
  }

  function init() {
    const box = composer();
    if (!box || box.dataset.ready) return;
    box.dataset.ready = "1";
    const selected = box.querySelector("[role=tab][aria-selected=true]") || box.querySelector("[role=tab]");
    if (selected) activate(selected.dataset.tab);
  }

  // ------------------------------------------------------------ Reply / Private note

  // One editor in two modes (as Chatwoot): what was typed moves along when the mode changes.
  function setMode(mode, focus) {
    const area = document.getElementById("composer-area");
    if (!area || area.dataset.mode === mode) return;
    const from = document.getElementById(area.dataset.mode === "note" ? "note-body" : "composer-body");
    const to = document.getElementById(mode === "note" ? "note-body" : "composer-body");
    area.dataset.mode = mode;
    area.querySelectorAll(".composer-modes [role=tab]").forEach(function (tab) {
      const on = tab.dataset.mode === mode;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
    });
    if (from && to && from.value && !to.value) { to.value = from.value; from.value = ""; }
    if (mode === "reply") activate("text");
    if (to && focus !== false) to.focus();
  }

  document.addEventListener("keydown", function (e) {
    const tab = e.target.closest && e.target.closest(".composer-modes [role=tab]");
    if (tab && (e.key === "ArrowLeft" || e.key === "ArrowRight")) {
      const next = tab.dataset.mode === "note" ? "reply" : "note";
      setMode(next, false);
      document.querySelector('.composer-modes [data-mode="' + next + '"]').focus();
      e.preventDefault();
      return;
    }
    // "n" (a shortcut of inbox.js) writes a note: show the note editor before it is focused.
    const tag = (e.target.tagName || "").toLowerCase();
    if (e.key === "n" && !e.ctrlKey && !e.metaKey && !e.altKey && !["input", "textarea", "select"].includes(tag) && !e.target.isContentEditable) {
      setMode("note", false);
    }
    if (e.target.id === "note-body" && e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      e.target.form.requestSubmit();
    }
  });

  // ------------------------------------------------------------ the attached file

  function fileSize(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return Math.round(bytes / 1024) + " KB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  function showAttachment(input) {
    const chip = document.getElementById("composer-attachment");
    if (!chip) return;
    const thumb = chip.querySelector(".attachment-thumb");
    if (thumb.src) { URL.revokeObjectURL(thumb.src); thumb.removeAttribute("src"); }
    thumb.hidden = true;
    const file = input.files && input.files[0];
    chip.hidden = !file;
    if (!file) return;
    chip.querySelector(".attachment-name").textContent = file.name;
    chip.querySelector(".attachment-size").textContent = fileSize(file.size);
    if (/^image\/(jpeg|png|gif|webp)$/.test(file.type)) {
      thumb.src = URL.createObjectURL(file);
      thumb.hidden = false;
    }
  }

  function removeAttachment() {
    const input = document.getElementById("composer-file");
    if (!input) return;
    input.value = "";
    showAttachment(input);
    input.focus();
  }

  // ------------------------------------------------------------ emoji

  const EMOJI = [
    ["😀", "grinning face"], ["😃", "smiling face with open mouth"], ["😄", "smiling face with smiling eyes"], ["😁", "beaming face"],
    ["😅", "grinning face with sweat"], ["😂", "face with tears of joy"], ["🙂", "slightly smiling face"], ["😉", "winking face"],
    ["😊", "smiling face with smiling eyes and blush"], ["😍", "smiling face with heart-eyes"], ["🥰", "smiling face with hearts"], ["😘", "face blowing a kiss"],
    ["😋", "face savoring food"], ["😎", "smiling face with sunglasses"], ["🤗", "hugging face"], ["🤔", "thinking face"],
    ["😐", "neutral face"], ["😶", "face without mouth"], ["🙄", "face with rolling eyes"], ["😏", "smirking face"],
    ["😔", "pensive face"], ["😢", "crying face"], ["😭", "loudly crying face"], ["😤", "face with steam from nose"],
    ["😠", "angry face"], ["😳", "flushed face"], ["😱", "face screaming in fear"], ["😴", "sleeping face"],
    ["🤒", "face with thermometer"], ["🤝", "handshake"], ["👍", "thumbs up"], ["👎", "thumbs down"],
    ["👏", "clapping hands"], ["🙏", "folded hands"], ["👋", "waving hand"], ["👌", "OK hand"],
    ["✌️", "victory hand"], ["💪", "flexed biceps"], ["👀", "eyes"], ["🎉", "party popper"],
    ["🎁", "wrapped gift"], ["🎂", "birthday cake"], ["❤️", "red heart"], ["💔", "broken heart"],
    ["⭐", "star"], ["🔥", "fire"], ["✨", "sparkles"], ["💯", "hundred points"],
    ["✅", "check mark button"], ["❌", "cross mark"], ["⚠️", "warning"], ["❓", "question mark"],
    ["❗", "exclamation mark"], ["⏰", "alarm clock"], ["📅", "calendar"], ["📞", "telephone receiver"],
    ["📦", "package"], ["🚚", "delivery truck"], ["🛒", "shopping cart"], ["💳", "credit card"],
    ["💰", "money bag"], ["🧾", "receipt"], ["📍", "round pushpin"], ["🏠", "house"],
    ["🙌", "raising hands"], ["😇", "smiling face with halo"], ["🤩", "star-struck"], ["🥳", "partying face"],
  ];
  const COLUMNS = 8;

  function pickerFor(toggle) {
    let picker = toggle.parentElement.querySelector(".emoji-picker");
    if (picker) return picker;
    picker = document.createElement("div");
    picker.className = "emoji-picker";
    picker.setAttribute("role", "dialog");
    picker.setAttribute("aria-label", "Emoji");
    picker.hidden = true;
    const grid = document.createElement("div");
    grid.className = "emoji-grid";
    grid.setAttribute("role", "grid");
    EMOJI.forEach(function (item, i) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "emoji";
      button.textContent = item[0];
      button.dataset.emoji = item[0];
      button.setAttribute("aria-label", item[1]);
      button.title = item[1];
      button.tabIndex = i === 0 ? 0 : -1;
      grid.append(button);
    });
    picker.append(grid);
    toggle.parentElement.append(picker);
    return picker;
  }

  function openPicker(toggle) {
    closePickers();
    const picker = pickerFor(toggle);
    picker.hidden = false;
    // Fixed above the button: the composer scrolls, and would clip a picker positioned inside it.
    const at = toggle.getBoundingClientRect();
    picker.style.left = Math.max(8, Math.min(at.left, window.innerWidth - picker.offsetWidth - 8)) + "px";
    picker.style.bottom = (window.innerHeight - at.top + 4) + "px";
    toggle.setAttribute("aria-expanded", "true");
    picker.querySelector(".emoji[tabindex='0']").focus();
  }

  function closePickers(except) {
    document.querySelectorAll(".emoji-picker:not([hidden])").forEach(function (picker) {
      if (picker === except) return;
      picker.hidden = true;
      const toggle = picker.parentElement.querySelector(".emoji-toggle");
      if (toggle) toggle.setAttribute("aria-expanded", "false");
    });
  }

  function insertEmoji(button) {
    const toggle = button.closest(".emoji-anchor").querySelector(".emoji-toggle");
    const field = document.getElementById(toggle.dataset.emojiFor);
    closePickers();
    if (!field) return;
    const start = field.selectionStart ?? field.value.length;
    const end = field.selectionEnd ?? field.value.length;
    field.value = field.value.slice(0, start) + button.dataset.emoji + field.value.slice(end);
    const caret = start + button.dataset.emoji.length;
    field.focus();
    field.setSelectionRange(caret, caret);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("keydown", function (e) {
    const button = e.target.closest && e.target.closest(".emoji-picker .emoji");
    if (e.key === "Escape" && e.target.closest && e.target.closest(".emoji-picker")) {
      const toggle = e.target.closest(".emoji-anchor").querySelector(".emoji-toggle");
      closePickers();
      toggle.focus();
      e.stopPropagation();
      return;
    }
    if (!button) return;
    const all = Array.from(button.parentElement.children);
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLUMNS, ArrowUp: -COLUMNS }[e.key];
    if (step === undefined) return;
    e.preventDefault();
    const next = all[Math.max(0, Math.min(all.length - 1, all.indexOf(button) + step))];
    button.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  });

  // ------------------------------------------------------------ clicks

  document.addEventListener("click", function (e) {
    const mode = e.target.closest(".composer-modes [role=tab]");
    if (mode) { setMode(mode.dataset.mode); return; }
    const emojiToggle = e.target.closest(".emoji-toggle");
    if (emojiToggle) {
      const picker = emojiToggle.parentElement.querySelector(".emoji-picker");
      if (picker && !picker.hidden) closePickers(); else openPicker(emojiToggle);
      return;
    }
    const emoji = e.target.closest(".emoji-picker .emoji");
    if (emoji) { insertEmoji(emoji); return; }
    if (!e.target.closest(".emoji-picker")) closePickers();
    if (e.target.closest(".attachment-remove")) { removeAttachment(); return; }
    const tab = e.target.closest("#composer [role=tab]");
    if (tab) { activate(tab.dataset.tab); return; }
    const reply = e.target.closest("[data-reply-to]");
    if (reply && composer()) {
      const box = composer();
      setMode("reply", false);
      activate("text");
      box.querySelector("input[name=reply_to]").value = reply.dataset.replyTo;
      const quote = box.querySelector(".composer-quote");
      quote.querySelector(".quote-text").textContent = "Replying to: " + reply.dataset.replyText;
      quote.hidden = false;
      const body = box.querySelector("#composer-body");
      if (body) body.focus();
      return;
    }
    if (e.target.closest(".quote-cancel")) {
      const box = composer();
      box.querySelector("input[name=reply_to]").value = "";
      box.querySelector(".composer-quote").hidden = true;
      return;
    }
    const pick = e.target.closest(".canned-suggest [data-body]");
    if (pick) { expand(pick.dataset.body); }
  });

  // ------------------------------------------------------------ /canned replies

  let suggestions = [];

  function expand(body) {
    const field = document.getElementById("composer-body");
    field.value = body;
    hideSuggestions();
    field.focus();
  }

  function hideSuggestions() {
    const list = document.querySelector("#composer .canned-suggest");
    if (list) { list.hidden = true; list.innerHTML = ""; }
    suggestions = [];
  }

  async function suggest(field) {
    const match = /^\/([\w-]*)$/.exec(field.value.trim());
    if (!match) return hideSuggestions();
    const box = composer();
    const response = await fetch(box.dataset.cannedUrl + "?q=" + encodeURIComponent(match[1]), { credentials: "same-origin" });
    if (!response.ok) return;
    suggestions = (await response.json()).results;
    const list = box.querySelector(".canned-suggest");
    list.innerHTML = "";
    suggestions.forEach(function (s, i) {
      const item = document.createElement("div");
      item.setAttribute("role", "option");
      item.dataset.body = s.body;
      item.className = "canned-item" + (i === 0 ? " active" : "");
      const key = document.createElement("strong");
      key.textContent = "/" + s.shortcut;
      item.append(key, " ", s.body.length > 80 ? s.body.slice(0, 80) + "…" : s.body);
      list.append(item);
    });
    list.hidden = suggestions.length === 0;
  }

  document.addEventListener("input", function (e) {
    if (e.target.id === "composer-body") suggest(e.target);
    if (e.target.matches("#composer [data-preview-input], .template-fields [data-preview-input]")) schedulePreview(e.target);
  });

  document.addEventListener("change", function (e) {
    if (e.target.id === "composer-file") showAttachment(e.target);
  });

  document.addEventListener("keydown", function (e) {
    if (e.target.id !== "composer-body") return;
    if ((e.key === "Tab" || e.key === "Enter") && suggestions.length && !e.ctrlKey) {
      e.preventDefault();
      expand(suggestions[0].body);
      return;
    }
    if (e.key === "Escape") hideSuggestions();
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      const form = document.getElementById("composer-form");
      if (form) form.requestSubmit();
    }
  });

  // ------------------------------------------------------------ template preview

  let previewTimer = null;

  function schedulePreview(input) {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(function () { refreshPreview(input.closest(".template-fields")); }, 250);
  }

  async function refreshPreview(fields) {
    if (!fields) return;
    const url = new URL(document.querySelector("[data-fields-url]").dataset.fieldsUrl, location.href);
    url.searchParams.set("template", fields.dataset.template);
    const box = composer();
    if (box) url.searchParams.set("conversation", box.dataset.conversation);
    fields.querySelectorAll("input[data-preview-input]").forEach(i => url.searchParams.set(i.name, i.value));
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("template-preview");
    const current = fields.querySelector("#template-preview");
    if (fresh && current) current.innerHTML = fresh.innerHTML;
  }

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", function () { init(); });
  init();
})();
