/* The dashboard of an open campaign reloads itself every minute (no <meta refresh>: it would
   reload under a user choosing a filter, and a screen reader loses its place). It waits while the
   tab is hidden or a filter is being chosen. */
(function () {
  "use strict";
  var mark = document.getElementById("refresh");
  if (!mark) return;
  var seconds = parseInt(mark.dataset.seconds, 10) || 60;
  function busy() {
    var el = document.activeElement;
    return document.hidden || (el && el.closest && el.closest("form"));
  }
  function tick() {
    if (busy()) { setTimeout(tick, 5000); return; }
    window.location.reload();
  }
  setTimeout(tick, seconds * 1000);
})();
