// Refreshes the campaign's progress bar while it sends, from a small JSON endpoint.
(function () {
  "use strict";
  function poll() {
    var bar = document.getElementById("campaign-progress");
    if (!bar || !bar.dataset.running) { return; }
    fetch(bar.dataset.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        bar.value = data.percent;
        bar.textContent = data.percent + "%";
        var text = document.getElementById("progress-text");
        if (text) {
          text.textContent = data.sent + " / " + data.total + " (" + data.percent + "%)" + (data.failed ? ", " + data.failed + " failed" : "");
        }
        var status = document.getElementById("campaign-status");
        if (status) { status.textContent = data.status_label; }
        if (data.status === "sending") { window.setTimeout(poll, 3000); } else { bar.dataset.running = ""; }
      })
      .catch(function () { window.setTimeout(poll, 10000); });
  }
  document.addEventListener("DOMContentLoaded", function () { window.setTimeout(poll, 3000); });
})();
