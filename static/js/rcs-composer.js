// The rich RCS builder of an RCS thread's composer (inbox/templates/inbox/_rcs_builder.html):
// "+ Suggestions" (text with suggested replies and actions), "Card" and "Carousel", a live preview
// drawn like the phone shows it, saved snippets. The builder keeps one plain object (the spec that
// inbox/rich/spec.py reads); the server checks every limit and its refusals are shown next to it.
// The composer is swapped by htmx, so everything is found through the builder element each time.
(function () {
  "use strict";

  const TYPES = [
    ["reply", "Reply"], ["url", "Open link"], ["dial", "Call"], ["location", "Show place"],
    ["share_location", "Ask for location"], ["calendar", "Calendar event"],
  ];
  const FIELDS = {
    reply: [], share_location: [],
    url: [["url", "Link (https://…)", "url"]],
    dial: [["phone", "Phone, e.g. +919812345678", "tel"]],
    location: [["latitude", "Latitude", "text"], ["longitude", "Longitude", "text"], ["label", "Place name", "text"]],
    calendar: [["title", "Event title", "text"], ["start", "Starts", "datetime-local"], ["end", "Ends", "datetime-local"], ["description", "Event description", "text"]],
  };
  const ICONS = { url: "🔗 ", dial: "📞 ", location: "📍 ", share_location: "📌 ", calendar: "📅 ", reply: "" };
  const MAX_CARDS = 10, MAX_CARD_CHIPS = 4, MAX_TEXT_CHIPS = 11;

  let state = null;       // the spec being built
  let snippets = [];      // [{id, name, shared, spec, deletable}]
  let checkTimer = null;

  const builder = () => document.querySelector("[data-rcs-builder]");
  const part = (name) => { const b = builder(); return b && b.querySelector("[data-rcs-" + name + "]"); };

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([key, value]) => {
      if (value === undefined || value === null || value === false) return;
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach((child) => child && node.appendChild(child));
    return node;
  }

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }

  function post(url, data) {
    const body = new FormData();
    Object.entries(data).forEach(([key, value]) => body.append(key, value));
    return fetch(url, { method: "POST", body: body, headers: { "X-CSRFToken": csrf() }, credentials: "same-origin" });
  }

  function newCard() { return { title: "", description: "", media_url: "", media_height: "MEDIUM", suggestions: [] }; }

  function fresh(kind) {
    const textBox = document.getElementById("composer-body");
    if (kind === "text") return { kind: "text", text: textBox ? textBox.value : "", suggestions: [{ type: "reply", text: "" }] };
    return { kind: kind, cards: kind === "carousel" ? [newCard(), newCard()] : [newCard()] };
  }

  // ------------------------------------------------------------ the editor

  function input(path, label, value, type) {
    const attrs = { "data-path": path, "aria-label": label, placeholder: label, value: value || "" };
    if (type === "textarea") return el("textarea", { "data-path": path, "aria-label": label, placeholder: label, rows: "2", text: value || "" });
    return el("input", Object.assign(attrs, { type: type || "text" }));
  }

  function suggestionEditor(prefix, owner, s, index) {
    const path = prefix + "suggestions." + index + ".";
    const select = el("select", { "data-path": path + "type", "data-structural": "1", "aria-label": owner + " suggestion " + (index + 1) + " type" },
      TYPES.map(([value, label]) => el("option", { value: value, text: label, selected: s.type === value })));
    const row = el("div", { class: "rcs-ed-suggestion" }, [
      select,
      input(path + "text", owner + " suggestion " + (index + 1) + " label", s.text),
    ]);
    FIELDS[s.type].forEach(([field, label, type]) => row.appendChild(input(path + field, owner + " suggestion " + (index + 1) + " " + label.toLowerCase(), s[field], type)));
    row.appendChild(el("button", { type: "button", class: "link-button", "data-remove": prefix + "suggestions." + index, "aria-label": "Remove " + owner.toLowerCase() + " suggestion " + (index + 1), text: "✕" }));
    return row;
  }

  function suggestionsEditor(prefix, owner, list, max) {
    const box = el("div", { class: "rcs-ed-suggestions" }, list.map((s, i) => suggestionEditor(prefix, owner, s, i)));
    if (list.length < max) box.appendChild(el("button", { type: "button", "data-add-suggestion": prefix, text: "+ Suggestion" + (owner === "Message" ? "" : " on " + owner.toLowerCase()) }));
    return box;
  }

  function cardEditor(card, index) {
    const owner = "Card " + (index + 1);
    const prefix = "cards." + index + ".";
    const upload = el("label", { class: "button rcs-upload" }, [
      document.createTextNode("Upload"),
      el("input", { type: "file", class: "sr-only", accept: "image/jpeg,image/png,image/gif,video/mp4", "data-upload": prefix + "media_url", "aria-label": owner + " media file" }),
    ]);
    const height = el("select", { "data-path": prefix + "media_height", "aria-label": owner + " media height" },
      ["SHORT", "MEDIUM", "TALL"].map((h) => el("option", { value: h, text: h.toLowerCase(), selected: card.media_height === h })));
    return el("fieldset", { class: "rcs-ed-card" }, [
      el("legend", { text: owner }),
      state.kind === "carousel" && state.cards.length > 2 ? el("button", { type: "button", class: "link-button", "data-remove": "cards." + index, text: "Remove card" }) : null,
      input(prefix + "title", owner + " title", card.title),
      input(prefix + "description", owner + " description", card.description, "textarea"),
      el("div", { class: "rcs-ed-media" }, [input(prefix + "media_url", owner + " media link (https://…)", card.media_url, "url"), upload, height]),
      suggestionsEditor(prefix, owner, card.suggestions, MAX_CARD_CHIPS),
    ]);
  }

  function drawEditor() {
    const editor = part("editor");
    if (!editor) return;
    editor.replaceChildren();
    if (state.kind === "text") {
      editor.appendChild(input("text", "Message text", state.text, "textarea"));
      editor.appendChild(suggestionsEditor("", "Message", state.suggestions, MAX_TEXT_CHIPS));
    } else {
      state.cards.forEach((card, i) => editor.appendChild(cardEditor(card, i)));
      if (state.kind === "carousel" && state.cards.length < MAX_CARDS) editor.appendChild(el("button", { type: "button", "data-add-card": "1", text: "+ Card" }));
    }
    drawPreview();
  }

  // ------------------------------------------------------------ the preview (like the phone)

  function localMedia(url) {
    // Our own uploads are shown; other sites' images are named (the page loads images from itself only).
    try { const parsed = new URL(url, location.href); return parsed.pathname.startsWith("/rcs-cards/") ? parsed.pathname : ""; } catch (e) { return ""; }
  }

  function chips(list) {
    return el("div", { class: "rcs-chips" }, list.filter((s) => s.text).map((s) => el("span", { class: "rcs-chip", text: ICONS[s.type] + s.text })));
  }

  function previewCard(card) {
    let media = null;
    if (card.media_url) {
      const local = localMedia(card.media_url);
      media = el("div", { class: "rcs-media rcs-media-" + (card.media_height || "MEDIUM").toLowerCase() },
        [local ? el("img", { src: local, alt: "" }) : el("span", { text: "🖼 " + card.media_url })]);
    }
    return el("div", { class: "rcs-card" }, [
      media,
      card.title ? el("strong", { class: "rcs-card-title", text: card.title }) : null,
      card.description ? el("p", { class: "rcs-card-text", text: card.description }) : null,
      chips(card.suggestions),
    ]);
  }

  function drawPreview() {
    const preview = part("preview");
    if (!preview || !state) return;
    let content;
    if (state.kind === "text") {
      content = el("div", { class: "rcs-rich" }, [el("div", { class: "rcs-bubble-text", text: state.text || " " }), chips(state.suggestions)]);
    } else {
      content = el("div", { class: "rcs-cards" + (state.kind === "carousel" ? " rcs-carousel" : "") }, state.cards.map(previewCard));
    }
    preview.replaceChildren(el("div", { class: "rcs-phone-screen" }, [content]));
    scheduleCheck();
  }

  // ------------------------------------------------------------ server check, send, snippets

  function showError(text) {
    const slot = part("error");
    if (!slot) return;
    slot.textContent = text || "";
    slot.hidden = !text;
  }

  function scheduleCheck() {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(async function () {
      const b = builder(), slot = part("check");
      if (!b || !slot || !state) return;
      const response = await post(b.dataset.checkUrl, { spec: JSON.stringify(state) });
      const data = await response.json().catch(() => ({}));
      slot.textContent = response.ok ? "✓ Within every RCS limit" : "⚠ " + (data.error || "Not sendable yet");
      slot.dataset.ok = response.ok ? "1" : "";
    }, 350);
  }

  async function send() {
    const b = builder();
    showError("");
    const button = part("send");
    button.disabled = true;
    try {
      const response = await post(b.dataset.sendUrl, { spec: JSON.stringify(state) });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) return showError(data.error || "Not sent (" + response.status + ").");
      close();
    } catch (e) {
      showError("Could not reach Sampark; nothing was sent. Try again.");
    } finally {
      button.disabled = false;
    }
  }

  async function loadSnippets() {
    const b = builder(), select = part("snippets");
    if (!b || !select) return;
    const response = await fetch(b.dataset.snippetsUrl, { credentials: "same-origin" });
    if (!response.ok) return;
    snippets = (await response.json()).snippets || [];
    select.replaceChildren(el("option", { value: "", text: "Saved…" }),
      ...snippets.map((s) => el("option", { value: String(s.id), text: s.name + (s.shared ? " (shared)" : "") })));
  }

  async function saveSnippet() {
    const b = builder(), name = part("snippet-name"), shared = part("snippet-shared");
    showError("");
    const response = await post(b.dataset.snippetsUrl, { spec: JSON.stringify(state), name: name.value, shared: shared && shared.checked ? "1" : "" });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) return showError(data.error || "Not saved.");
    part("check").textContent = "Saved “" + data.name + "”" + (data.shared ? " for everyone." : " for you.");
    await loadSnippets();
    part("snippets").value = String(data.id);
  }

  async function deleteSnippet() {
    const select = part("snippets"), chosen = snippets.find((s) => String(s.id) === select.value);
    if (!chosen) return;
    const response = await post(builder().dataset.snippetsUrl + chosen.id + "/delete/", {});
    const data = await response.json().catch(() => ({}));
    if (!response.ok) return showError(data.error || "Not deleted.");
    await loadSnippets();
    part("delete-snippet").hidden = true;
  }

  async function upload(fileInput) {
    const file = fileInput.files[0];
    if (!file) return;
    const response = await post(builder().dataset.mediaUrl, { file: file });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) return showError(data.error || "Not uploaded.");
    setPath(fileInput.dataset.upload, data.url);
    drawEditor();
  }

  // ------------------------------------------------------------ state by path ("cards.0.suggestions.1.url")

  function walk(path) {
    const keys = path.split(".");
    let node = state;
    keys.slice(0, -1).forEach((key) => { node = node[key]; });
    return [node, keys[keys.length - 1]];
  }
  function setPath(path, value) { const [node, key] = walk(path); node[key] = value; }
  function removePath(path) { const [node, key] = walk(path); node.splice(Number(key), 1); }

  function open(kind) {
    state = fresh(kind);
    part("panel").hidden = false;
    showError("");
    drawEditor();
    loadSnippets();
  }

  function close() {
    state = null;
    const panel = part("panel");
    if (panel) panel.hidden = true;
    const editor = part("editor"), preview = part("preview");
    if (editor) editor.replaceChildren();
    if (preview) preview.replaceChildren();
  }

  document.addEventListener("click", function (e) {
    const b = builder();
    if (!b || !b.contains(e.target)) return;
    const target = e.target.closest("button");
    if (!target) return;
    if (target.dataset.rcsOpen) return open(target.dataset.rcsOpen);
    if (!state) return;
    if (target.dataset.addCard) { state.cards.push(newCard()); return drawEditor(); }
    if (target.dataset.addSuggestion !== undefined) {
      walk(target.dataset.addSuggestion + "suggestions")[0].suggestions.push({ type: "reply", text: "" });
      return drawEditor();
    }
    if (target.dataset.remove) { removePath(target.dataset.remove); return drawEditor(); }
    if (target.hasAttribute("data-rcs-send")) return send();
    if (target.hasAttribute("data-rcs-save")) return saveSnippet();
    if (target.hasAttribute("data-rcs-delete-snippet")) return deleteSnippet();
    if (target.hasAttribute("data-rcs-cancel")) return close();
  });

  document.addEventListener("input", function (e) {
    const b = builder();
    if (!b || !state || !b.contains(e.target) || !e.target.dataset.path) return;
    setPath(e.target.dataset.path, e.target.value);
    if (e.target.dataset.structural) drawEditor(); else drawPreview();
  });

  document.addEventListener("change", function (e) {
    const b = builder();
    if (!b || !b.contains(e.target)) return;
    if (e.target.dataset.upload) return upload(e.target);
    if (e.target.hasAttribute("data-rcs-snippets")) {
      const chosen = snippets.find((s) => String(s.id) === e.target.value);
      part("delete-snippet").hidden = !(chosen && chosen.deletable);
      if (!chosen) return;
      state = JSON.parse(JSON.stringify(chosen.spec));
      part("panel").hidden = false;
      part("snippet-name").value = chosen.name;
      drawEditor();
    }
  });

  // A swapped-in composer starts closed (the builder's state belonged to the old one).
  document.body && document.body.addEventListener("htmx:afterSwap", function () { if (!builder()) state = null; });
})();
