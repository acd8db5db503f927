// Compose, progressive enhancement only: the form works without this file.
// - Files are uploaded by htmx as soon as they are chosen; this checks their size against
//   what is left of the per-message limit before anything is sent, and shows progress.
// - Marks the page as scripted so the "Attach" button (for no-JS use) can hide.
(function () {
  "use strict";
  var form = document.getElementById("compose-form");
  if (!form) { return; }
  document.documentElement.classList.add("js");
  var input = document.getElementById("attachments");
  var progress = document.getElementById("upload-progress");
  var note = document.getElementById("upload-note");
  var limit = Number(form.getAttribute("data-limit")) || 0;

  function used() {
    var total = document.getElementById("attachments-total");
    return total ? Number(total.getAttribute("data-bytes")) || 0 : 0;
  }

  input.addEventListener("htmx:confirm", function (event) {
    var total = used();
    for (var i = 0; i < input.files.length; i += 1) { total += input.files[i].size; }
    note.textContent = "";
    if (limit && total > limit) {
      event.preventDefault();
      note.textContent = form.getAttribute("data-too-large");
      input.value = "";
    }
  });
  input.addEventListener("htmx:xhr:progress", function (event) {
    if (!event.detail.lengthComputable) { return; }
    progress.hidden = false;
    progress.max = event.detail.total;
    progress.value = event.detail.loaded;
    progress.textContent = Math.round(100 * event.detail.loaded / event.detail.total) + " %";
  });
  input.addEventListener("htmx:afterRequest", function () {
    progress.hidden = true;
    input.value = "";
  });
}());
