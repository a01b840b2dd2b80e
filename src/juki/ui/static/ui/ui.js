// The counter's behaviour that HTML alone cannot give: the idle lock (C20) and keyboard keys [400].
(function () {
  "use strict";
  var body = document.body;
  var idle = parseInt(body.dataset.idleSeconds || "300", 10) * 1000;
  var lastActivity = Date.now();
  var lastPing = Date.now();

  function lockNow() {
    // Hide the page before leaving it: personal data must not stay readable on an unattended screen.
    body.classList.add("locking");
    var next = window.location.pathname + window.location.search;
    window.location.replace(body.dataset.lockUrl + "?next=" + encodeURIComponent(next));
  }

  function activity() {
    lastActivity = Date.now();
    // Keep the server-side session awake while the clerk types a long form without submitting.
    if (Date.now() - lastPing > 60000 && body.dataset.pingUrl) {
      lastPing = Date.now();
      var headers = JSON.parse(body.getAttribute("hx-headers") || "{}");
      fetch(body.dataset.pingUrl, { method: "POST", headers: headers, credentials: "same-origin" });
    }
  }

  if (!body.dataset.noIdle) {
    ["keydown", "mousemove", "mousedown", "touchstart", "wheel"].forEach(function (ev) {
      window.addEventListener(ev, activity, { passive: true });
    });
    setInterval(function () { if (Date.now() - lastActivity >= idle) { lockNow(); } }, 1000);
  }

  // A form sent back with errors: the keyboard goes to the first item to correct (before autofocus).
  var invalid = document.querySelector("form.change .invalid input, form.change .invalid select, form.change .invalid textarea");
  if (invalid) { invalid.focus(); }

  document.addEventListener("keydown", function (ev) {
    // Access keys (Alt+letter) handled here, so they work the same in every browser and
    // while a Japanese IME is on (the physical key is read, not the character).
    if (ev.altKey && !ev.ctrlKey && !ev.metaKey && /^(Key|Digit)/.test(ev.code || "")) {
      var letter = ev.code.replace(/^(Key|Digit)/, "").toLowerCase();  // Alt+letter, and Alt+digit for a screen's tabs
      var target = document.querySelector('[accesskey="' + letter + '"]');
      if (target) {
        ev.preventDefault();
        if (/^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) { target.focus(); } else { target.click(); }
        return;
      }
    }
    // Escape: the screen's "back" action (the link marked data-escape), as clerks expect.
    if (ev.key === "Escape") {
      var back = document.querySelector("[data-escape]");
      if (back) { ev.preventDefault(); back.click(); }
      return;
    }
    // Arrow keys move between result rows; Enter on a row opens it (the row's link has focus).
    if ((ev.key === "ArrowDown" || ev.key === "ArrowUp") && !ev.altKey) {
      var links = Array.prototype.slice.call(document.querySelectorAll("a.row-link"));
      if (!links.length) { return; }
      var active = document.activeElement;
      var at = links.indexOf(active);
      if (at === -1 && (active.tagName === "INPUT" || active.tagName === "SELECT" || active.tagName === "TEXTAREA")) { return; }
      ev.preventDefault();
      var to = ev.key === "ArrowDown" ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
      links[to].focus();
    }
  });

  // After a search, put the keyboard on the first result so Enter opens it.
  document.body.addEventListener("htmx:afterSwap", function (ev) {
    if (ev.target.id === "results") {
      var first = ev.target.querySelector("a.row-link");
      if (first) { first.focus(); }
      else { var msg = ev.target.querySelector(".error, .note, .warning"); if (msg) { msg.setAttribute("tabindex", "-1"); msg.focus(); } }
    }
  });
  body.dataset.ready = "1";  // the keys above are live (browser tests wait for this)
})();
