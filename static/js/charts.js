// Draws the page's Chart.js charts. Each <canvas data-chart="ID"> names a
// <script type="application/json" id="ID"> block holding its data (the CSP allows no inline
// script):
//   {"labels": ["2026-03-01", …],            calendar days (no time zone: shown as they are)
//    "unit": "CZK",                           the left axis's unit (a currency, or "" for counts)
//    "unit2": "CZK",                          the right axis's unit, when a series uses it
//    "titles": {"x": "Day", "y": "Cost (CZK)", "y2": "Clicks"},   axis titles (y: default the unit)
//    "series": [{"label": "Cost", "values": [..], "type": "bar"|"line", "axis": "y"|"y2",
//                "dashed": false, "colour": "#0d6efd", "percent": false}]}
(() => {
  if (typeof Chart === "undefined") return;
  const locale = document.documentElement.lang || undefined;
  const dayFormat = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", timeZone: "UTC" });
  const longDayFormat = new Intl.DateTimeFormat(locale, {
    weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
  const numberFormat = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
  const palette = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#d63384", "#20c997"];

  // A calendar day as written by the server; read at UTC midnight so no offset moves it.
  const day = (iso) => new Date(`${iso}T00:00:00Z`);
  const amount = (value, unit, percent) => {
    if (value === null || value === undefined) return "—";
    if (percent) return `${numberFormat.format(value * 100)} %`;
    return unit ? `${numberFormat.format(value)} ${unit}` : numberFormat.format(value);
  };

  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    const spec = JSON.parse(source.textContent);
    const units = { y: spec.unit || "", y2: spec.unit2 || "" };
    const titles = spec.titles || {};
    const percentAxis = { y: false, y2: false };
    const datasets = spec.series.map((series, index) => {
      const axis = series.axis || "y";
      if (series.percent) percentAxis[axis] = true;
      const colour = series.colour || palette[index % palette.length];
      return {
        label: series.label,
        type: series.type || "line",
        data: series.values.map((v) => (v === null ? null : Number(v))),
        yAxisID: axis,
        borderColor: colour,
        backgroundColor: series.type === "bar" ? `${colour}99` : colour,
        borderDash: series.dashed ? [6, 4] : [],
        borderWidth: series.type === "bar" ? 0 : 2,
        pointRadius: 0,
        spanGaps: true,
        stepped: series.stepped || false,
        order: series.type === "bar" ? 2 : 1,
        percent: Boolean(series.percent),
      };
    });
    const axisOptions = (axis, position) => ({
      position,
      beginAtZero: true,
      grid: { drawOnChartArea: position === "left" },
      title: { display: Boolean(titles[axis] || units[axis]) || percentAxis[axis],
               text: titles[axis] || (percentAxis[axis] ? "%" : units[axis]) },
      ticks: { callback: (value) => amount(value, "", percentAxis[axis]) },
    });
    const scales = {
      x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 10,
                    callback: (_value, index) => dayFormat.format(day(spec.labels[index])) },
           grid: { display: false },
           title: { display: Boolean(titles.x), text: titles.x || "" } },
      y: axisOptions("y", "left"),
    };
    if (datasets.some((d) => d.yAxisID === "y2")) scales.y2 = axisOptions("y2", "right");
    // eslint-disable-next-line no-new
    new Chart(canvas, {
      type: "bar",
      data: { labels: spec.labels, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales,
        plugins: {
          legend: { display: datasets.length > 1, position: "bottom" },
          tooltip: {
            callbacks: {
              title: (items) => (items.length ? longDayFormat.format(day(spec.labels[items[0].dataIndex])) : ""),
              label: (item) => `${item.dataset.label}: ${amount(item.raw, units[item.dataset.yAxisID], item.dataset.percent)}`,
            },
          },
        },
      },
    });
  });
})();
