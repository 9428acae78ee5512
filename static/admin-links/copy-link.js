/* Copy buttons of the customer's links: the Clipboard API where the page may use it, else the old
   select-and-copy; either way the button says what happened (in the page's language). */
(function () {
  "use strict";
  if (window.customerLinksReady) { return; }
  window.customerLinksReady = true;

  function fallbackCopy(input) {
    input.focus();
    input.select();
    input.setSelectionRange(0, input.value.length);
    try { return document.execCommand("copy"); } catch (e) { return false; }
  }

  function say(button, ok) {
    var status = button.parentNode.querySelector(".customer-link-status");
    if (status) { status.textContent = ok ? button.dataset.copied : button.dataset.failed; }
    button.classList.toggle("copied", ok);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".customer-link-copy") : null;
    if (!button) { return; }
    event.preventDefault();
    var input = document.getElementById(button.dataset.copy);
    if (!input) { return; }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(function () { say(button, true); },
        function () { say(button, fallbackCopy(input)); });
    } else {
      say(button, fallbackCopy(input));
    }
  });
})();
