// Telephony in the browser: click-to-call popovers (the call's state follows it live), the screen
// pop when a call rings for this agent, and the supervisors' live calls page (rows refetched on
// events, durations ticking from each call's start time, the page pinging so Sampark keeps polling).
(function () {
  "use strict";
  const LABELS = { requested: "Requested: your phone will ring", ringing: "Ringing", in_progress: "In progress",
    answered: "Ended (answered)", missed: "Ended (missed)", no_answer: "Ended (not answered)", busy: "Ended (busy)", failed: "Failed" };
  const watching = {}; // call id → popover result element

  function csrf(form) { const el = form.querySelector("[name=csrfmiddlewaretoken]"); return el ? el.value : ""; }

  document.addEventListener("submit", async function (e) {
    const form = e.target;
    if (!form.matches(".c2c-form, .live-action")) return;
    e.preventDefault();
    const submitter = e.submitter;
    const data = new FormData(form);
    if (submitter && submitter.name) data.set(submitter.name, submitter.value);
    const result = form.classList.contains("c2c-form") ? form.parentElement.querySelector(".c2c-result") : null;
    if (submitter) submitter.disabled = true;
    if (result) { result.textContent = "Calling…"; result.classList.remove("error"); }
    try {
      const response = await fetch(form.action, { method: "POST", body: data, headers: { Accept: "application/json", "X-CSRFToken": csrf(form) } });
      const answer = await response.json();
      if (result) {
        result.textContent = answer.message;
        result.classList.toggle("error", !answer.ok);
        if (answer.ok && answer.call) {
          watching[answer.call.id] = result;
          result.dataset.call = answer.call.id;
          result.insertAdjacentHTML("beforeend", ' <a href="' + answer.call.url + '">Call details</a> <span class="c2c-state call-status ' +
            answer.call.status + '">' + (LABELS[answer.call.status] || answer.call.status) + "</span>");
        }
      } else {
        const row = form.closest("tr");
        flash(row, answer.message, !answer.ok);
        refreshLive();
      }
    } catch (err) {
      if (result) { result.textContent = "Sampark could not be reached; try again."; result.classList.add("error"); }
    } finally {
      if (submitter) submitter.disabled = false;
    }
  });

  function flash(row, text, isError) {
    const box = document.getElementById("live-message") || document.createElement("p");
    box.id = "live-message";
    box.setAttribute("role", "status");
    box.className = isError ? "flash-error" : "flash-success";
    box.textContent = text;
    const table = document.getElementById("live-calls");
    if (table && !box.parentElement) table.before(box);
  }

  const LIVE = ["requested", "ringing", "in_progress"];
  // While a click-to-call is live its popover asks for its state now and then: the answer arrives
  // by websocket anyway; the request keeps the account watched so Sampark keeps polling Smartflo.
  setInterval(function () {
    Object.keys(watching).forEach(async function (id) {
      const response = await fetch("/telephony/calls/" + id + "/state/");
      if (response.ok) { const data = await response.json(); showState(data.id, data.status); }
    });
  }, 5000);

  function showState(callId, status) {
    const result = watching[callId];
    if (!result) return;
    if (LIVE.indexOf(status) === -1) delete watching[callId];
    const badge = result.querySelector(".c2c-state");
    if (badge) { badge.className = "c2c-state call-status " + status; badge.textContent = LABELS[status] || status; }
  }

  // ---- screen pop
  async function screenPop(callId) {
    const response = await fetch("/telephony/calls/" + callId + "/pop/", { headers: { Accept: "text/html" } });
    if (!response.ok) return;
    let holder = document.getElementById("screen-pop");
    if (!holder) { holder = document.createElement("div"); holder.id = "screen-pop"; document.body.appendChild(holder); }
    holder.innerHTML = await response.text();
  }
  document.addEventListener("click", function (e) {
    if (e.target.matches("[data-pop-close]")) e.target.closest(".screen-pop").remove();
  });

  // ---- live calls page
  let liveTimer = null;
  async function refreshLive() {
    const box = document.getElementById("live-calls");
    if (!box) return;
    clearTimeout(liveTimer);
    liveTimer = setTimeout(async function () {
      const response = await fetch(box.dataset.liveRows, { headers: { Accept: "text/html" } });
      if (response.ok && !box.contains(document.activeElement && document.activeElement.matches("input") ? document.activeElement : null)) {
        box.innerHTML = await response.text();
        tick();
      }
    }, 150);
  }
  function tick() {
    document.querySelectorAll(".tick[data-since]").forEach(function (el) {
      const since = Date.parse(el.dataset.since);
      if (isNaN(since)) return;
      const s = Math.max(0, Math.floor((Date.now() - since) / 1000));
      el.textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (document.getElementById("live-calls")) {
      tick();
      setInterval(tick, 1000);
      setInterval(refreshLive, 20000); // also the ping that keeps the account watched
    }
  });

  // Presence: an agent's open page keeps the account's live calls polled, so their calls pop up.
  function presence() {
    const token = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    fetch("/telephony/watch/", { method: "POST", headers: { "X-CSRFToken": token ? decodeURIComponent(token[1]) : "" } }).catch(function () {});
  }
  document.addEventListener("DOMContentLoaded", function () { presence(); setInterval(presence, 20000); });

  document.addEventListener("sampark:event", function (e) {
    const { event, payload } = e.detail;
    if (event === "call.updated") {
      showState(payload.call, payload.status);
      const badge = document.getElementById("call-status"); // a call's own page
      if (badge && badge.dataset.call === String(payload.call)) {
        if (badge.className.indexOf(payload.status) === -1) location.reload(); // times, actions and recording changed too
      }
      if (document.getElementById("live-calls")) refreshLive();
    }
    else if (event === "calls.live") refreshLive();
    else if (event === "call.screen_pop") screenPop(payload.call);
  });
  document.addEventListener("sampark:reconnected", function () {
    refreshLive();
    Object.keys(watching).forEach(async function (id) {
      const response = await fetch("/telephony/calls/" + id + "/state/");
      if (response.ok) { const data = await response.json(); showState(data.id, data.status); }
    });
  });
})();
