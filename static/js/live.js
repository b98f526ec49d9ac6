// The one websocket client. Every server event arrives as a DOM event:
//   document.addEventListener("sampark:event", e => e.detail  // {id, event, ts, payload}
// After a lost connection comes back (or the server says it may have missed events: "resync"),
// "sampark:reconnected" fires so pages refetch what they show:
// an agent never silently misses a message.
(function () {
  "use strict";
  const status = () => document.getElementById("live-status");
  let socket = null;
  let attempt = 0;
  let everConnected = false;

  function setState(state) {
    const el = status();
    if (el) { el.dataset.state = state; el.title = "Live updates: " + state; }
    document.documentElement.dataset.live = state;
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(scheme + "://" + location.host + "/ws/events/");
    setState("connecting");
    socket.onopen = function () {
      attempt = 0;
      setState("live");
      if (everConnected) document.dispatchEvent(new CustomEvent("sampark:reconnected"));
      everConnected = true;
    };
    socket.onmessage = function (message) {
      let data;
      try { data = JSON.parse(message.data); } catch (e) { return; }
      if (data.event === "hello" || data.event === "pong") return;
      if (data.event === "resync") {  // the server may have dropped us from its groups for a while
        document.dispatchEvent(new CustomEvent("sampark:reconnected"));
        return;
      }
      document.dispatchEvent(new CustomEvent("sampark:event", { detail: data }));
    };
    socket.onclose = function (event) {
      setState("offline");
      if (event.code === 4401) return; // logged out: do not hammer the server
      const delay = Math.min(30000, 500 * Math.pow(2, attempt++)) + Math.random() * 500;
      setTimeout(connect, delay);
    };
  }

  setInterval(function () {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "ping" }));
  }, 25000);
  connect();
})();
