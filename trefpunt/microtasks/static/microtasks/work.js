/* The work page: keyboard shortcuts and the lease timer. Without this file every button
   still works; htmx (when loaded) swaps in the next item without a full reload.
   Keys: 1–9 pick a choice of the first choice question, Enter submits, S skips. On a page of
   several items, 1–9 pick in the item that holds the focus and S does nothing (each item has
   its own skip button). */
(function () {
  "use strict";
  var timer = null;

  function panel() { return document.getElementById("mt-panel"); }

  function isTextEntry(el) {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    if (el.tagName !== "INPUT") return false;
    return ["radio", "checkbox", "button", "submit", "reset", "file"].indexOf(el.type) === -1;
  }

  function submit(form) {
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }

  document.addEventListener("keydown", function (event) {
    var root = panel();
    if (!root || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    var target = event.target;
    var form = root.querySelector("form[data-mt-answer]");
    if (!form) {
      var next = root.querySelector("form[data-mt-next]");
      if (next && event.key === "Enter" && !isTextEntry(target) && target.tagName !== "BUTTON") {
        event.preventDefault();
        submit(next);
      }
      return;
    }
    if (event.key === "Enter") {
      // Text inputs submit by themselves; buttons and links do their own thing.
      if (isTextEntry(target) || target.tagName === "BUTTON" || target.tagName === "A") return;
      event.preventDefault();
      submit(form);
      return;
    }
    if (isTextEntry(target)) return;
    if (/^[1-9]$/.test(event.key)) {
      // On a page of several items the keys choose in the item that holds the focus.
      var item = target.closest ? target.closest("[data-mt-page-item]") : null;
      var input = (item || form).querySelector('input[data-key="' + event.key + '"]');
      if (!input) return;
      event.preventDefault();
      input.checked = input.type === "radio" ? true : !input.checked;
      input.dispatchEvent(new Event("change", { bubbles: true }));
      input.focus();
      return;
    }
    if (event.key === "s" || event.key === "S") {
      var skip = root.querySelector("form[data-mt-skip]");
      if (skip) {
        event.preventDefault();
        submit(skip);
      }
    }
  });

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function startTimer() {
    if (timer) { clearInterval(timer); timer = null; }
    var el = document.querySelector("[data-mt-expires]");
    if (!el) return;
    var expires = Date.parse(el.getAttribute("data-mt-expires"));
    var serverNow = Date.parse(el.getAttribute("data-mt-now"));
    var skew = isNaN(serverNow) ? 0 : Date.now() - serverNow;
    var output = el.querySelector("[data-mt-left]");
    function tick() {
      var left = Math.max(0, Math.round((expires - (Date.now() - skew)) / 1000));
      output.textContent = Math.floor(left / 60) + ":" + pad(left % 60);
      el.classList.toggle("is-low", left > 0 && left <= 60);
      el.classList.toggle("is-over", left === 0);
      if (left === 0) {
        clearInterval(timer);
        timer = null;
        var note = document.querySelector("[data-mt-expired]");
        if (note) note.hidden = false;
      }
    }
    tick();
    timer = setInterval(tick, 1000);
  }

  function focusPanel() {
    var root = panel();
    if (!root) return;
    var first = root.querySelector("input[type=text], input[type=number], textarea");
    if (first && !root.querySelector("input[data-key]")) first.focus({ preventScroll: true });
  }

  document.addEventListener("DOMContentLoaded", function () { startTimer(); focusPanel(); });
  document.addEventListener("htmx:afterSettle", function () { startTimer(); focusPanel(); });
})();
