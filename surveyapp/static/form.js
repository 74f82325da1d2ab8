/* The citizen form, improved when scripts run: skip logic on screen, progress, a draft kept on
   the phone, and a resend when the network drops. Without it the form still works. */
(function () {
  "use strict";
  var store = window.localStorage, KEY = "surveyapp.draft.";
  var done = document.getElementById("thanks");
  if (done) {  // the whole form's copy and each screen's ("<code>.<screen>")
    try {
      for (var i = store.length - 1; i >= 0; i--) {
        var k = store.key(i);
        if (k === KEY + done.dataset.code || k.indexOf(KEY + done.dataset.code + ".") === 0) store.removeItem(k);
      }
    } catch (e) {}
    return;
  }
  var form = document.getElementById("survey");
  if (!form) return;
  var paged = form.dataset.screen !== undefined;  // one screen of a long form: progress is the server's
  var shared = form.dataset.kiosk !== undefined;  // a counter's shared tablet: no copy kept for the next person
  var key = KEY + form.dataset.code + (paged ? "." + form.dataset.screen : ""), qs = form.querySelectorAll("fieldset.q");
  var fill = document.getElementById("fill"), count = document.getElementById("count");
  var net = document.getElementById("net"), sending = false;

  function values(name) {
    var out = [];
    form.querySelectorAll('[name="' + name + '"]').forEach(function (el) {
      if ((el.type === "radio" || el.type === "checkbox") ? el.checked : el.value.trim()) out.push(el.value);
    });
    return out;
  }
  function update() {
    var shown = 0, answered = 0, n = 0;
    qs.forEach(function (q) {
      var on = true;
      if (q.dataset.if) {  // every condition must hold: fields "a b", answers "x y|z"
        var fields = q.dataset.if.split(" "), wants = q.dataset.in.split("|");
        on = fields.every(function (name, i) {
          var want = wants[i].split(" ");
          return values(name).some(function (v) { return want.indexOf(v) >= 0; });
        });
      }
      q.classList.toggle("hid", !on);
      if (!on) return;
      shown++;
      var number = q.querySelector(".n");
      if (number) number.textContent = ++n + ".";
      if (values(q.id.slice(2)).length) answered++;
    });
    if (paged || !fill) return;
    fill.style.width = (shown ? 100 * answered / shown : 0) + "%";
    count.textContent = "Đã trả lời " + answered + "/" + shown;
  }
  function save() {
    if (shared) return;
    try { store.setItem(key, new URLSearchParams(new FormData(form)).toString()); } catch (e) {}
  }
  function restore() {
    if (shared) return;
    var saved; try { saved = store.getItem(key); } catch (e) {}
    if (!saved || form.querySelector(".err")) return;
    new URLSearchParams(saved).forEach(function (value, name) {
      if (name === "csrf_token") return;
      form.querySelectorAll('[name="' + name + '"]').forEach(function (el) {
        if (el.type === "radio" || el.type === "checkbox") { if (el.value === value) el.checked = true; }
        else el.value = value;
      });
    });
  }
  function show(text) { net.hidden = false; net.textContent = text; }
  function send(submitter) {
    var body = new URLSearchParams(new FormData(form));
    if (submitter && submitter.name) body.set(submitter.name, submitter.value);
    fetch(form.getAttribute("action"), { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) { document.open(); document.write(html); document.close(); })
      .catch(function () {
        show(shared ? "Chưa gửi được vì mất kết nối. Máy sẽ tự gửi lại khi có mạng; vui lòng chờ."
                    : "Chưa gửi được vì mất kết nối. Phiếu đã được lưu trên máy và sẽ tự gửi lại khi có mạng.");
        setTimeout(function () { send(submitter); }, 5000);
      });
  }
  restore();
  // the receipt's QR code carries the dossier code after "#hs=": a browser never sends that part
  // to the server (no address, no log line holds it); it fills the field, then leaves the address bar
  var carried = /(?:^#|&)hs=([^&]*)/.exec(location.hash), box = form.querySelector('input[name="dossier"]');
  if (carried) {
    try { if (box) box.value = decodeURIComponent(carried[1].replace(/\+/g, " ")).slice(0, 60); } catch (e) {}
    if (history.replaceState) history.replaceState(null, "", location.pathname + location.search);
  }
  update();
  // where the user is told something: the first question to fix, or the "saved" line
  var firstError = form.querySelector(".err"), told = document.querySelector(".saved,.alert");
  if (firstError) firstError.scrollIntoView();
  else if (told) { told.scrollIntoView({ block: "center" }); told.focus && told.focus({ preventScroll: true }); }
  else if (paged) window.scrollTo(0, 0);
  form.addEventListener("change", function () { update(); save(); tapped(); });
  function tapped() {  // the one-tap rating: the last face chosen sends it (not while a code is still to type)
    if (form.dataset.quick === undefined || (box && !box.value.trim()) || sending) return;
    var all = Array.prototype.every.call(qs, function (q) { return q.querySelector("input:checked"); });
    if (!all) return;
    var button = form.querySelector("button.send");
    if (form.requestSubmit) form.requestSubmit(button); else button.click();
  }
  form.addEventListener("input", function () { update(); save(); });
  form.addEventListener("submit", function (ev) {
    if (!window.fetch || !window.URLSearchParams) return;
    ev.preventDefault();
    if (sending) return;
    sending = true;
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    save();
    send(ev.submitter);
  });
})();
