// The sandbox customer phone of an automated call: once the prompt has played on the stream, play
// what Sampark said (where the browser allows autoplay; the player stays for a click otherwise).
(function () {
  function offer() {
    const heard = document.querySelector("#stream-heard[data-heard]");
    const player = document.getElementById("sandbox-prompt");
    if (!heard || !player || player.dataset.loaded) return;
    player.dataset.loaded = "1";
    player.src = heard.dataset.heard;
    player.hidden = false;
    const playing = player.play();
    if (playing && playing.catch) playing.catch(function () { /* autoplay refused: the controls remain */ });
  }
  document.addEventListener("DOMContentLoaded", offer);
  document.addEventListener("htmx:afterSwap", offer);
})();
