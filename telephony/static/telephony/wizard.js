// The wizard's Copy buttons: [data-copy] names the input whose value goes to the clipboard.
document.addEventListener("click", function (e) {
  const button = e.target.closest("[data-copy]");
  if (!button) return;
  const input = document.getElementById(button.dataset.copy);
  input.select();
  (navigator.clipboard ? navigator.clipboard.writeText(input.value) : Promise.reject()).catch(function () { document.execCommand("copy"); });
  button.textContent = "Copied";
});
