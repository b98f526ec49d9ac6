// Every page: how htmx treats refusals and failures, the phone-sized menu, and the small behaviours
// pages declare with data attributes (below).
(function () {
  "use strict";

  // htmx 2 drops 4xx and 5xx answers, so a refusal looked like "nothing happened". A 422 is a refusal
  // whose reason the server rendered for the page: swap it (the server picks the target, e.g. the
  // composer's error slot, with HX-Retarget). Every other failure is said by showError() below.
  if (window.htmx) {
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "422", swap: true },
      { code: "[45]..", swap: false, error: true },
      { code: "...", swap: false },
    ];
  }

  const REASONS = {
    400: "The request was not understood.",
    403: "You are not allowed to do that.",
    404: "This is no longer there; reload the page.",
    413: "That is too large for the server to accept.",
    429: "Too many requests; wait a moment and try again.",
  };

  // Where a form says its errors go (data-error-slot="#id"), or a message at the bottom of the page.
  function showError(elt, text) {
    const scope = elt && elt.closest ? elt.closest("[data-error-slot]") : null;
    const slot = scope ? document.querySelector(scope.dataset.errorSlot) : null;
    if (slot) {
      slot.textContent = text;
      slot.hidden = false;
      return;
    }
    let toast = document.getElementById("toast");
    if (!toast) {
      toast = document.createElement("p");
      toast.id = "toast";
      toast.className = "toast";
      toast.setAttribute("role", "alert");
      document.body.appendChild(toast);
    }
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(showError.timer);
    showError.timer = setTimeout(function () { toast.hidden = true; }, 8000);
  }

  function reasonOf(xhr) {
    const type = xhr.getResponseHeader("Content-Type") || "";
    const body = (xhr.responseText || "").trim();
    if (type.startsWith("text/plain") && body && body.length < 300) return body;
    if (type.startsWith("application/json")) {
      try { const detail = JSON.parse(body).detail; if (typeof detail === "string") return detail; } catch (e) { /* not JSON after all */ }
    }
    return REASONS[xhr.status] || "The server could not do that (error " + xhr.status + "). Try again in a moment.";
  }

  document.addEventListener("htmx:beforeRequest", function (e) {
    const scope = e.detail.elt.closest && e.detail.elt.closest("[data-error-slot]");
    const slot = scope ? document.querySelector(scope.dataset.errorSlot) : null;
    if (slot) slot.hidden = true;
  });
  document.addEventListener("htmx:responseError", function (e) {
    showError(e.detail.elt, reasonOf(e.detail.xhr) + " Nothing was lost: what you wrote is still here.");
  });
  document.addEventListener("htmx:sendError", function (e) {
    showError(e.detail.elt, "Sampark could not be reached. Check the connection and try again; what you wrote is still here.");
  });

  // ------------------------------------------------------------ the menu on narrow screens

  document.addEventListener("click", function (e) {
    const toggle = e.target.closest(".nav-toggle");
    const bar = document.querySelector(".topbar");
    if (!bar) return;
    if (toggle) {
      const open = !bar.classList.contains("nav-open");
      bar.classList.toggle("nav-open", open);
      toggle.setAttribute("aria-expanded", String(open));
    } else if (bar.classList.contains("nav-open") && !e.target.closest(".topbar-menu")) {
      closeMenu();
    }
  });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") closeMenu(); });

  function closeMenu() {
    const bar = document.querySelector(".topbar.nav-open");
    if (!bar) return;
    bar.classList.remove("nav-open");
    const toggle = bar.querySelector(".nav-toggle");
    if (toggle) toggle.setAttribute("aria-expanded", "false");
  }
})();

// Small page behaviours declared in the markup, so no page needs inline script (our Content-Security-
// Policy allows none without a nonce). Delegated from the document: they work in htmx-swapped parts too.
//   <form data-confirm="Delete X?">           asks before submitting
//   <select data-autosubmit>                  submits its form on change
//   <select name="template" data-query         navigates to ?template=<value>, starting from
//           data-query-base="channel=3"        these parameters (and the current ones with
//           data-query-keep data-query-clear="template">   data-query-keep, minus data-query-clear)
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("change", function (event) {
    const field = event.target;
    if (!(field instanceof HTMLSelectElement || field instanceof HTMLInputElement)) return;
    if (field.hasAttribute("data-autosubmit") && field.form) {
      field.form.requestSubmit();
    } else if (field.hasAttribute("data-query")) {
      const params = field.hasAttribute("data-query-keep") ? new URLSearchParams(location.search) : new URLSearchParams();
      (field.dataset.queryClear || "").split(" ").filter(Boolean).forEach(function (name) { params.delete(name); });
      new URLSearchParams(field.dataset.queryBase || "").forEach(function (value, name) { params.set(name, value); });
      params.set(field.name, field.value);
      location.search = params.toString();
    }
  });
})();
