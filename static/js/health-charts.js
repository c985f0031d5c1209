// Every chart of a health page, drawn from the JSON the page carries next to it (no inline script: CSP).
// <canvas data-chart="ID"> reads <script type="application/json" id="ID">{type, stacked, labels, datasets}.
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source) { return; }
    var spec = JSON.parse(source.textContent);
    var scales = spec.stacked ? { x: { stacked: true }, y: { stacked: true } } : {};
    new Chart(canvas, {
      type: spec.type || "bar",
      data: { labels: spec.labels, datasets: spec.datasets },
      options: { maintainAspectRatio: false, responsive: true, scales: scales }
    });
  });
})();
