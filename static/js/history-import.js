// The import job page: the progress bar and counts follow "import.progress" events from the
// websocket (live.js); when the job finishes the card is fetched again for its final links.
(function () {
  "use strict";
  document.addEventListener("sampark:event", function (e) {
    const data = e.detail;
    const card = document.getElementById("import-progress");
    if (!card || data.event !== "import.progress" || String(data.payload.job) !== card.dataset.job) return;
    const p = data.payload;
    card.querySelector("progress").value = p.percent;
    card.querySelector("[data-testid=import-status]").textContent = p.status_label;
    card.querySelector("[data-testid=import-status]").dataset.status = p.status;
    for (const name of ["imported", "duplicates", "failed"]) {
      const el = card.querySelector("[data-count=" + name + "]");
      if (el) el.textContent = p[name];
    }
    if (p.finished && window.htmx) window.htmx.trigger(card, "refresh");
  });
})();
