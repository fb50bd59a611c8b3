/* Coverage days over time for one material against its target and warning line.
   Data comes from the json_script block "coverage-chart-data"; Chart.js is served locally. */
(function () {
  "use strict";

  function draw() {
    var dataNode = document.getElementById("coverage-chart-data");
    var canvas = document.getElementById("coverage-chart");
    var select = document.getElementById("coverage-chart-material");
    if (!dataNode || !canvas || !select || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(dataNode.textContent);
    if (!data.series.length) {
      return;
    }
    data.series.forEach(function (series, index) {
      var option = document.createElement("option");
      option.value = String(index);
      option.textContent = series.material + " (" + series.status + ")";
      select.appendChild(option);
    });

    function number(value) {
      return value === null ? null : Number(value);
    }

    function datasets(series) {
      var flat = function (value) {
        return data.labels.map(function () { return Number(value); });
      };
      return [
        {
          label: series.material + " forward coverage (days)",
          data: series.points.map(number),
          borderColor: "#205493",
          backgroundColor: "#205493",
          tension: 0.2,
          spanGaps: false,
        },
        {
          label: "Target (" + series.target + " days)",
          data: flat(series.target),
          borderColor: "#c62828",
          borderDash: [6, 4],
          pointRadius: 0,
        },
        {
          label: "Warning band (" + series.warning + " days)",
          data: flat(series.warning),
          borderColor: "#d99a00",
          borderDash: [2, 3],
          pointRadius: 0,
        },
      ];
    }

    var chart = new window.Chart(canvas, {
      type: "line",
      data: { labels: data.labels, datasets: datasets(data.series[0]) },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          y: { beginAtZero: true, title: { display: true, text: "days" } },
          x: { ticks: { maxTicksLimit: 10 } },
        },
      },
    });

    select.addEventListener("change", function () {
      chart.data.datasets = datasets(data.series[Number(select.value)]);
      chart.update();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
