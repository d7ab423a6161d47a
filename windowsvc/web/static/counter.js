// 综合受理: the 打印 buttons (the browser's own print works without this file).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});


// The intake form's Idempotency-Key. A browser without a back-forward cache fetches the form
// again when the clerk goes back, with a new key: put back the key the form was submitted with,
// so that resubmitting replays the first receipt instead of creating a second case. Only on a
// back/forward visit: a form opened anew is a new application with its own key.
(function () {
  var form = document.querySelector("form[data-intake]");
  if (!form || !window.sessionStorage) return;
  var input = form.querySelector("input[name=idempotency_key]");
  var slot = "counter-key:" + form.getAttribute("action");
  var visits = performance.getEntriesByType ? performance.getEntriesByType("navigation") : [];
  if (visits.length && visits[0].type === "back_forward") {
    var kept = sessionStorage.getItem(slot);
    if (kept) input.value = kept;
  }
  form.addEventListener("submit", function () {
    sessionStorage.setItem(slot, input.value);
  });
})();
