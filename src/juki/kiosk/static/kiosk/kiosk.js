// The kiosk's page helpers: the numeric keypad, the idle timer, one submit per tap.
// Everything also works without this script (type the digits; the server ends idle sessions).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".keypad").forEach(function (pad) {
      var input = document.getElementById(pad.dataset.target);
      pad.addEventListener("click", function (event) {
        var key = event.target.closest("[data-key]");
        if (!key || !input) return;
        var k = key.dataset.key;
        if (k === "clear") input.value = "";
        else if (k === "back") input.value = input.value.slice(0, -1);
        else if (!input.maxLength || input.maxLength < 0 || input.value.length < input.maxLength) input.value += k;
        input.dispatchEvent(new Event("input", { bubbles: true }));
      });
    });

    // A tapped submit button is disabled at once: a second tap must not post again.
    document.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.sent) { event.preventDefault(); return; }
        form.dataset.sent = "1";
        var button = event.submitter;
        if (button && button.name) {  // keep the tapped button's value in the post
          var hidden = document.createElement("input");
          hidden.type = "hidden"; hidden.name = button.name; hidden.value = button.value;
          form.appendChild(hidden);
        }
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      });
    });

    var seconds = parseInt(document.body.dataset.idleSeconds || "0", 10);
    var url = document.body.dataset.timeoutUrl;
    if (seconds > 0 && url) {
      var timer;
      var reset = function () {
        clearTimeout(timer);
        timer = setTimeout(function () { window.location.assign(url); }, seconds * 1000);
      };
      ["pointerdown", "keydown", "input"].forEach(function (name) { document.addEventListener(name, reset, true); });
      reset();
    }
  });
})();
