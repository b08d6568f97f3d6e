// The composer's two behaviours that need a script: platform tabs (arrow keys move between
// them; without the script every panel shows), and uploads from the page into the media
// library (the file itself is the request body, with the session's CSRF token), after which
// the new item is chosen where the upload was started and the live checks run again.
(function () {
  "use strict";
  function tabs() {
    var list = document.querySelector("[role=tablist]");
    if (!list) return;
    var buttons = Array.prototype.slice.call(list.querySelectorAll("[role=tab]"));
    function show(chosen, focus) {
      buttons.forEach(function (button) {
        var on = button === chosen;
        button.setAttribute("aria-selected", on ? "true" : "false");
        button.tabIndex = on ? 0 : -1;
        var panel = document.getElementById(button.getAttribute("aria-controls"));
        if (panel) panel.hidden = !on;
      });
      if (focus) chosen.focus();
    }
    buttons.forEach(function (button, index) {
      button.addEventListener("click", function () { show(button, false); });
      button.addEventListener("keydown", function (event) {
        var step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
        if (!step) return;
        event.preventDefault();
        show(buttons[(index + step + buttons.length) % buttons.length], true);
      });
    });
    var selected = buttons.filter(function (b) { return b.getAttribute("aria-selected") === "true"; });
    if (buttons.length) show(selected[0] || buttons[0], false);
  }

  function token() {
    var meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.getAttribute("content") : "";
  }

  function uploads() {
    document.addEventListener("change", function (event) {
      var input = event.target;
      if (!input.matches || !input.matches("input[type=file][data-upload-for]")) return;
      event.stopPropagation();
      var file = input.files && input.files[0];
      if (!file) return;
      var status = document.getElementById("upload-status");
      var select = document.getElementById(input.dataset.uploadFor);
      if (status) status.textContent = "…";
      fetch("/composer/media?name=" + encodeURIComponent(file.name), {
        method: "POST",
        headers: {"X-CSRF-Token": token(), "Content-Type": "application/octet-stream"},
        body: file,
        credentials: "same-origin"
      }).then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, body: body}; });
      }).then(function (answer) {
        if (!answer.ok) {
          if (status) status.textContent = answer.body.error || String(answer.body);
          return;
        }
        var item = answer.body;
        document.querySelectorAll("select[data-media-select]").forEach(function (each) {
          var exists = Array.prototype.some.call(each.options, function (o) { return o.value === String(item.id); });
          if (!exists) each.add(new Option(item.name + " (" + item.kind + ", #" + item.id + ")", String(item.id)));
        });
        if (select) {
          select.value = String(item.id);
          select.dispatchEvent(new Event("change", {bubbles: true}));
        }
        if (status) status.textContent = item.name + " ✓";
        input.value = "";
      }).catch(function () {
        if (status) status.textContent = "✗";
      });
    }, true);
  }

  function start() { tabs(); uploads(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
