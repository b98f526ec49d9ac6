// The sandbox customer's phone: while the customer types on an RCS chat, tell Sampark (Tata posts a
// TYPING event), at most once every few seconds, like a phone does.
(function () {
  "use strict";
  const EVERY_MS = 3000;
  let last = 0;
  document.addEventListener("input", function (e) {
    const form = e.target.closest && e.target.closest("form[data-typing-url]");
    if (!form || e.target.name !== "text" || !e.target.value) return;
    const now = Date.now();
    if (now - last < EVERY_MS) return;
    last = now;
    const body = new FormData();
    ["channel", "phone", "csrfmiddlewaretoken"].forEach((name) => {
      const field = form.querySelector("[name=" + name + "]");
      if (field) body.append(name, field.value);
    });
    fetch(form.dataset.typingUrl, { method: "POST", body: body, credentials: "same-origin" });
  });
  // A sent message ends the typing (the next keystroke starts a new burst at once).
  document.addEventListener("htmx:afterRequest", function () { last = 0; });
})();
