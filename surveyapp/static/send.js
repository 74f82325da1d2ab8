/* The send pages and the export pages: "choose all" on the compose form, and a progress bar that follows the worker
   (a few numbers every two seconds; the page reloads once when the send is done). */
(function () {
  "use strict";
  var all = document.getElementById("all");
  if (all) {
    var boxes = document.querySelectorAll('input[name="' + all.dataset.all + '"]');
    all.addEventListener("change", function () {
      for (var i = 0; i < boxes.length; i++) boxes[i].checked = all.checked;
    });
    var follow = function () {
      var every = boxes.length > 0;
      for (var i = 0; i < boxes.length; i++) every = every && boxes[i].checked;
      all.checked = every;
    };
    for (var i = 0; i < boxes.length; i++) boxes[i].addEventListener("change", follow);
  }
  var box = document.getElementById("send-progress");
  if (!box || box.dataset.finished === "1") return;
  var bar = box.querySelector("progress");
  var format = new Intl.NumberFormat("vi-VN");
  function tick() {
    fetch(box.dataset.url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) { setTimeout(tick, 5000); return; }
        var spans = box.querySelectorAll("[data-k]");
        for (var i = 0; i < spans.length; i++) spans[i].textContent = format.format(p[spans[i].dataset.k]);
        bar.max = p.total || 1;
        bar.value = p.done;
        if (p.finished) { window.location.reload(); return; }
        setTimeout(tick, 2000);
      })
      .catch(function () { setTimeout(tick, 5000); });
  }
  setTimeout(tick, 1000);
})();
