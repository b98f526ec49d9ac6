// Live progress pages (a message campaign, a call campaign): an element with data-refresh-on (the event
// names that change it) and data-url is refetched in place when one of those events arrives or the
// socket reconnects, at most every 500 ms.
(function () {
  let timer = null;
  function refresh() {
    const live = document.querySelector("[data-refresh-on]");
    if (!live || timer) return;
    timer = setTimeout(function () {
      timer = null;
      htmx.ajax("GET", live.dataset.url, { target: "#" + live.id, swap: "outerHTML" });
    }, 500);
  }
  document.addEventListener("sampark:event", function (e) {
    const live = document.querySelector("[data-refresh-on]");
    if (live && live.dataset.refreshOn.split(" ").includes(e.detail.event)) refresh();
  });
  document.addEventListener("sampark:reconnected", refresh);
})();
