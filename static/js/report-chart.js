// The report's chart, drawn from the JSON the page carries (no inline script: CSP). A fixed-height box keeps it
// readable on a phone: the chart fills the box instead of keeping a wide aspect ratio.
(function () {
  "use strict";
  var canvas = document.getElementById("report-chart");
  var data = document.getElementById("report-data");
  if (!canvas || !data || typeof Chart === "undefined") { return; }
  new Chart(canvas, {
    type: "bar",
    data: JSON.parse(data.textContent),
    options: { maintainAspectRatio: false, responsive: true }
  });
})();
