/* The questionnaire builder, improved when scripts run: only the fields of the chosen question
   type and the answers of the question a skip rule looks at are shown, and the preview reloads
   after each save. Without it every block shows with a heading saying when it applies. */
(function () {
  "use strict";
  var type = document.getElementById("qtype");
  if (type) {
    var blocks = document.querySelectorAll(".tblock");
    var showType = function () {
      blocks.forEach(function (b) { b.hidden = b.dataset.types.split(" ").indexOf(type.value) < 0; });
    };
    type.addEventListener("change", showType);
    showType();
  }
  // "new scale" and "new aspect" fields only when asked for
  [["scale", "scale_labels"], ["aspect", "aspect_new"]].forEach(function (pair) {
    var select = document.querySelector('select[name="' + pair[0] + '"]');
    var field = document.querySelector('[name="' + pair[1] + '"]');
    if (!select || !field) return;
    var label = field.closest("label");
    var sync = function () { label.hidden = select.value !== "__new__"; };
    select.addEventListener("change", sync);
    sync();
  });
  document.querySelectorAll(".condrow").forEach(function (row) {
    var cond = row.querySelector("select.cond-q"), sets = row.querySelectorAll("fieldset.cond");
    var showCond = function () {
      sets.forEach(function (f) { f.hidden = f.dataset.for !== cond.value; });
    };
    cond.addEventListener("change", showCond);
    showCond();
  });
  document.querySelectorAll("form").forEach(function (f) {
    f.addEventListener("submit", function () {
      var b = f.querySelector("button"); if (b) { setTimeout(function () { b.disabled = true; }, 0); }
    });
  });
  if (location.hash) {
    var el = document.getElementById(location.hash.slice(1));
    if (el) el.scrollIntoView({block: "start"});
  }
})();
/* The rules form: bands only for the "bands" method; a source's questions only for its group, and
   only when no aspect is chosen. */
(function () {
  "use strict";
  document.querySelectorAll("section.crit").forEach(function (crit) {
    var method = crit.querySelector("select.method"), bands = crit.querySelector("fieldset.bands");
    var syncMethod = function () { bands.hidden = method.value !== "bands"; };
    method.addEventListener("change", syncMethod);
    syncMethod();
    crit.querySelectorAll(".source").forEach(function (src) {
      var group = src.querySelector("select.src-group"), aspect = src.querySelector("select.src-aspect");
      var sync = function () {
        src.querySelectorAll(".src-questions").forEach(function (f) {
          f.hidden = !group.value || f.dataset.group !== group.value || aspect.value !== "";
        });
      };
      group.addEventListener("change", sync);
      aspect.addEventListener("change", sync);
      sync();
    });
  });
})();
/* The plan form: only the fields of each group's chosen method. */
(function () {
  "use strict";
  document.querySelectorAll("fieldset.pg").forEach(function (group) {
    var method = group.querySelector("select.pmethod");
    var sync = function () {
      group.querySelectorAll(".pm").forEach(function (d) { d.hidden = d.dataset.methods.split(" ").indexOf(method.value) < 0; });
    };
    method.addEventListener("change", sync);
    sync();
  });
})();
