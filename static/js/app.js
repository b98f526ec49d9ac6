// Every page: how htmx treats refusals and failures, and the phone-sized menu.
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
