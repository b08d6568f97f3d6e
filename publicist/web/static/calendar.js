// The calendar's drag and drop: dropping an entry on another day submits the same form as
// the panel's keyboard form (day of the drop, the entry's time of day), so one route and one
// service check it. Refusals (422, 409) are swapped in like pages, to be read.
(function () {
  "use strict";
  function within(target, selector) {
    return target && target.closest ? target.closest(selector) : null;
  }
  document.addEventListener("dragstart", function (event) {
    var entry = within(event.target, "[data-post][draggable=true]");
    if (!entry) return;
    event.dataTransfer.setData("text/plain", entry.dataset.post + " " + entry.dataset.time);
    event.dataTransfer.effectAllowed = "move";
  });
  document.addEventListener("dragover", function (event) {
    var day = within(event.target, "[data-date]");
    if (!day) return;
    event.preventDefault();
    day.classList.add("over");
  });
  document.addEventListener("dragleave", function (event) {
    var day = within(event.target, "[data-date]");
    if (day) day.classList.remove("over");
  });
  document.addEventListener("drop", function (event) {
    var day = within(event.target, "[data-date]");
    var form = document.getElementById("move");
    if (!day || !form) return;
    event.preventDefault();
    day.classList.remove("over");
    var moved = event.dataTransfer.getData("text/plain").split(" ");
    if (moved.length !== 2) return;
    form.elements.post_id.value = moved[0];
    form.elements.date.value = day.dataset.date;
    form.elements.time.value = moved[1];
    form.requestSubmit();
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 409 || status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
