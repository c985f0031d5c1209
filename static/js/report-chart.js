// The treasury report's chart: its data is the JSON block the page carries (no inline script: CSP).
(function () {
  "use strict";
  var canvas = document.getElementById("report-chart");
  var data = document.getElementById("report-data");
  if (canvas && data && window.Chart) {
    new window.Chart(canvas, {type: "bar", data: JSON.parse(data.textContent)});
  }
})();
