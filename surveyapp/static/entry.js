/* Paper entry: Enter moves to the next box, and saves the form from the last one. */
(function () {
  "use strict";
  var form = document.getElementById("entry");
  if (!form) return;
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input:not([type=hidden])"));
  var bad = form.querySelector(".bad input");
  if (bad) bad.focus();
  boxes.forEach(function (box, i) {
    box.addEventListener("keydown", function (ev) {
      if (ev.key !== "Enter") return;
      ev.preventDefault();
      if (i + 1 < boxes.length) { boxes[i + 1].focus(); boxes[i + 1].select(); }
      else form.submit();
    });
  });
})();
