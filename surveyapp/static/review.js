/* The quality page: "Chọn tất cả" ticks every listed response (without scripts, tick them one by one). */
(function () {
  "use strict";
  var all = document.getElementById("all-rows");
  if (!all) return;
  all.addEventListener("change", function () {
    document.querySelectorAll('input[name="ids"]').forEach(function (box) { box.checked = all.checked; });
  });
})();
