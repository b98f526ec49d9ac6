// The reply composer (inbox/_composer.html): tabs, /canned replies, quoting, live template preview.
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

  document.addEventListener("click", function (e) {
    const tab = e.target.closest("#composer [role=tab]");
    if (tab) { activate(tab.dataset.tab); return; }
    const reply = e.target.closest("[data-reply-to]");
    if (reply && composer()) {
      const box = composer();
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
    if (e.target.id === "composer-file") {
      const name = composer().querySelector(".file-name");
      name.textContent = e.target.files.length ? e.target.files[0].name : "";
    }
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
