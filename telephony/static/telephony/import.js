// Live progress: the worker publishes call_import.progress after every page; a reconnect refetches.
(function () {
  function refresh(id) {
    const row = document.getElementById("import-" + id);
    if (!row) return;
    fetch(row.dataset.progressUrl, { headers: { "HX-Request": "true" } }).then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html) row.outerHTML = html; });
  }
  document.addEventListener("sampark:event", function (e) {
    if (e.detail.event !== "call_import.progress") return;
    const p = e.detail.payload, row = document.getElementById("import-" + p.import);
    if (!row) return;
    if (p.status === "failed" || p.status === "done") { refresh(p.import); return; }
    row.dataset.status = p.status;
    row.querySelector("[data-role=status]").textContent = p.status === "running" ? "Importing" : p.status;
    row.querySelector("[data-role=counts]").textContent = p.fetched + (p.total !== null ? " of " + p.total : "") + " records (" + p.created + " new, " + p.updated + " updated)";
    const bar = row.querySelector(".progress");
    bar.setAttribute("aria-valuenow", p.percent);
    bar.querySelector("span").style.width = p.percent + "%";
  });
  document.addEventListener("sampark:reconnected", function () {
    document.querySelectorAll(".import[data-status=running], .import[data-status=pending]").forEach(function (row) { refresh(row.dataset.import); });
  });
  // The import may have finished before this page's socket joined: look once after connecting.
  setTimeout(function () { document.querySelectorAll(".import[data-status=running], .import[data-status=pending]").forEach(function (row) { refresh(row.dataset.import); }); }, 1500);
})();
