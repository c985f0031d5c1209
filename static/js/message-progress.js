// The delivery counts of a message, refreshed while it goes out (the page works without it: reload).
(function () {
  "use strict";
  var section = document.getElementById("message-progress");
  if (!section || section.dataset.finished === "true") { return; }
  var url = section.dataset.progressUrl;
  var status = document.getElementById("message-status");
  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        section.querySelectorAll("[data-count]").forEach(function (cell) {
          var value = data[cell.dataset.count];
          if (value !== undefined && cell.textContent !== String(value)) { cell.textContent = value; }
        });
        if (status && data.status) { status.textContent = data.status.charAt(0).toUpperCase() + data.status.slice(1); }
        if (!data.finished) { window.setTimeout(refresh, 2000); }
      })
      .catch(function () { window.setTimeout(refresh, 5000); });
  }
  window.setTimeout(refresh, 1000);
})();
