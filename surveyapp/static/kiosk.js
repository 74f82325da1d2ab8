/* A counter's shared tablet (/k/<code>): after a thank-you page, and after the idle time on a
   half-answered form, load a blank form for the next citizen. Nothing of an abandoned form was
   sent, and form.js keeps no copy of it on the tablet (data-kiosk). */
(function () {
  "use strict";
  var next = document.getElementById("next");
  if (next) {  // the thank-you page: back to a blank form by itself
    var left = parseInt(next.dataset.seconds, 10) || 10, told = document.getElementById("countdown");
    var tick = setInterval(function () {
      left -= 1;
      if (told) told.textContent = "Máy sẽ tự trở về phiếu trống sau " + Math.max(left, 0) + " giây.";
      if (left <= 0) { clearInterval(tick); location.replace(next.href); }
    }, 1000);
    return;
  }
  var form = document.getElementById("survey");
  if (!form || form.dataset.kiosk === undefined) return;
  var idle = (parseFloat(form.dataset.idle) || 90) * 1000, timer = null, dirty = false;
  function sending() {
    var button = form.querySelector("button.send");
    return button && button.disabled;  // form.js is sending (or resending): never thrown away then
  }
  function reset() {
    if (sending()) { timer = setTimeout(reset, idle); return; }
    form.reset();
    location.replace(form.getAttribute("action"));  // a blank form with a new submission id
  }
  function touched(ev) {
    if (ev.type === "input" || ev.type === "change") dirty = true;
    if (!dirty) return;  // a blank form waits for the next citizen as long as it takes
    clearTimeout(timer);
    timer = setTimeout(reset, idle);
  }
  ["pointerdown", "keydown", "input", "change", "scroll", "touchstart"].forEach(function (kind) {
    window.addEventListener(kind, touched, { passive: true, capture: true });
  });
  if (form.querySelector(".err, input:checked")) touched({ type: "change" });  // a form sent back with its answers
})();
