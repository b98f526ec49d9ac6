// Dialplan admin: copy the values to paste into Smartflo, and show an example request body.
document.addEventListener("click", (event) => {
  const copy = event.target.closest(".dp-copy");
  if (copy) {
    const source = document.querySelector(copy.dataset.copy);
    navigator.clipboard?.writeText(source.textContent).then(() => {
      copy.textContent = "Copied";
      setTimeout(() => (copy.textContent = "Copy"), 1500);
    });
    return;
  }
  const example = event.target.closest(".dp-example");
  if (example) {
    const body = document.querySelector(example.dataset.target);
    const showingExample = body.dataset.showing === "example";
    body.textContent = showingExample ? body.dataset.template : body.dataset.example;
    body.dataset.showing = showingExample ? "template" : "example";
    example.textContent = showingExample ? "Insert example" : "Show template";
  }
});
