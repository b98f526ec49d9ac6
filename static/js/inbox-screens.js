// The inbox on narrow screens: below 768 px the list, the thread and the contact panel are screens of
// their own (app.css); below 1100 px the contact panel opens over the thread. This file is the
// "Contact" and back controls. Which screen shows follows from the page: a thread with a conversation
// hides the list (CSS :has), so opening a row needs nothing here.
(function () {
  "use strict";
  const inbox = document.getElementById("inbox");
  if (!inbox) return;

  function showPanel(open) {
    inbox.classList.toggle("panel-open", open);
    document.querySelectorAll(".panel-toggle").forEach((b) => b.setAttribute("aria-expanded", String(open)));
    const target = open ? document.querySelector("#contact-panel .panel-back") : document.querySelector(".panel-toggle");
    if (target && target.offsetParent !== null) target.focus();
  }

  document.addEventListener("click", function (e) {
    if (e.target.closest(".panel-toggle")) { showPanel(!inbox.classList.contains("panel-open")); return; }
    if (e.target.closest(".panel-back")) { showPanel(false); return; }
    const back = e.target.closest(".thread-back");
    if (back) back.search = location.search;   // back to the list with the filters the row was opened from
  });

  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && inbox.classList.contains("panel-open")) showPanel(false);
  });

  document.body.addEventListener("htmx:afterSettle", function (e) {
    if (e.detail.target && e.detail.target.id === "thread") showPanel(false);   // another conversation opened
    if (e.detail.target && e.detail.target.id === "thread-head") {
      document.querySelectorAll(".panel-toggle").forEach((b) => b.setAttribute("aria-expanded", String(inbox.classList.contains("panel-open"))));
    }
  });
})();
