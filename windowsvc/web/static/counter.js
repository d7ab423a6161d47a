// 综合受理: the 打印 buttons (the browser's own print works without this file).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
