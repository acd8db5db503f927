/* Pli: small comforts on top of pages that work without JavaScript.
   - "All" in the message list checks every box in place instead of reloading the page;
   - the print view gets a Print button;
   - optional keyboard shortcuts (off unless turned on, see the shortcuts page).
   Everything goes through event delegation, so lists swapped in by htmx keep working. */
(function () {
  "use strict";

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll('#message-form input[name="uid"]'));
  }

  function toggleAll() {
    var all = boxes();
    var check = all.some(function (box) { return !box.checked; });
    all.forEach(function (box) { box.checked = check; });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.select-all");
    if (link && document.getElementById("message-form")) {
      event.preventDefault();
      toggleAll();
    }
    if (event.target.closest && event.target.closest("[data-print]")) {
      window.print();
    }
  });

  function showPrintButtons() {
    document.querySelectorAll("[data-print]").forEach(function (button) { button.hidden = false; });
  }

  /* Keyboard shortcuts */
  function shortcutsOn() {
    var box = document.querySelector("form.search-box");
    return box && box.getAttribute("data-shortcuts") === "on";
  }

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#message-list tbody tr"));
  }

  function currentRow() {
    var active = document.activeElement;
    return active && active.closest ? active.closest("#message-list tbody tr") : null;
  }

  function moveFocus(step) {
    var all = rows();
    if (!all.length) { return; }
    var index = all.indexOf(currentRow());
    var next = all[Math.min(all.length - 1, Math.max(0, index < 0 ? 0 : index + step))];
    var link = next.querySelector("td.subject a");
    if (link) { link.focus(); }
  }

  function toggleRow() {
    var row = currentRow();
    var box = row && row.querySelector('input[name="uid"]');
    if (box) { box.checked = !box.checked; }
  }

  function act(key) {
    var target = document.querySelector('[data-key="' + CSS.escape(key) + '"]');
    if (!target) { return false; }
    if (target.tagName === "SELECT" || target.tagName === "INPUT") {
      target.focus();
      return true;
    }
    if (target.closest("#message-form") && !boxes().some(function (box) { return box.checked; })) {
      toggleRow(); /* nothing checked: act on the message that has the focus */
    }
    target.click();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (!shortcutsOn() || event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey
        || typing(event.target)) {
      return;
    }
    var key = event.key;
    var handled = true;
    if (key === "?") {
      window.location.href = document.querySelector("form.search-box").getAttribute("data-help");
    } else if (key === "j") {
      moveFocus(1);
    } else if (key === "k") {
      moveFocus(-1);
    } else if (key === "x") {
      toggleRow();
    } else if (key === "*") {
      toggleAll();
    } else if (key.length === 1) {
      handled = act(key);
    } else {
      handled = false;
    }
    if (handled) { event.preventDefault(); }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", showPrintButtons);
  } else {
    showPrintButtons();
  }
})();
