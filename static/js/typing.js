// "typing…" under the open thread while the customer types (RCS sends typing events; ingest publishes
// them as "typing" and stores nothing). It clears when their message arrives, or after a few seconds
// without another typing event, as phones do.
(function () {
  "use strict";
  const SHOW_FOR_MS = 6000;
  let timer = null;

  function openConversation() {
    const thread = document.getElementById("thread");
    return thread && thread.dataset.conversation ? Number(thread.dataset.conversation) : null;
  }

  function indicator(create) {
    let node = document.getElementById("typing-indicator");
    const messages = document.getElementById("messages");
    if (!node && create && messages) {
      node = document.createElement("div");
      node.id = "typing-indicator";
      node.className = "rcs-typing";
      node.setAttribute("role", "status");
      node.textContent = "typing…";
      messages.after(node);
    }
    return node;
  }

  function clear() {
    clearTimeout(timer);
    const node = indicator(false);
    if (node) node.remove();
  }

  document.addEventListener("sampark:event", function (e) {
    const { event, payload } = e.detail;
    if (!payload || payload.conversation !== openConversation()) return;
    if (event === "typing") {
      indicator(true);
      clearTimeout(timer);
      timer = setTimeout(clear, SHOW_FOR_MS);
    } else if (event === "message.created" && payload.direction === "in") {
      clear();
    }
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.target && e.target.id === "thread") clear();
  });
})();
