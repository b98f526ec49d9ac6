// Small page behaviours declared in the markup, so no page needs inline script (our Content-Security-
// Policy allows none without a nonce). Delegated from the document: they work in htmx-swapped parts too.
//   <form data-confirm="Delete X?">           asks before submitting
//   <select data-autosubmit>                  submits its form on change
//   <select name="template" data-query         navigates to ?template=<value>, starting from
//           data-query-base="channel=3"        these parameters (and the current ones with
//           data-query-keep data-query-clear="template">   data-query-keep, minus data-query-clear)
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("change", function (event) {
    const field = event.target;
    if (!(field instanceof HTMLSelectElement || field instanceof HTMLInputElement)) return;
    if (field.hasAttribute("data-autosubmit") && field.form) {
      field.form.requestSubmit();
    } else if (field.hasAttribute("data-query")) {
      const params = field.hasAttribute("data-query-keep") ? new URLSearchParams(location.search) : new URLSearchParams();
      (field.dataset.queryClear || "").split(" ").filter(Boolean).forEach(function (name) { params.delete(name); });
      new URLSearchParams(field.dataset.queryBase || "").forEach(function (value, name) { params.set(name, value); });
      params.set(field.name, field.value);
      location.search = params.toString();
    }
  });
})();
