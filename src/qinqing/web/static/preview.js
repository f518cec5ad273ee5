// Impact preview charts, drawn with the ECharts file served from /static/vendor.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("preview-data").textContent);

  function bar(id, labels, values, name) {
    var el = document.getElementById(id);
    if (!labels.length) { el.textContent = "暂无数据"; el.classList.add("empty"); return; }
    var chart = echarts.init(el, null, {renderer: "svg"});
    chart.setOption({
      animation: false,
      tooltip: {trigger: "axis"},
      grid: {left: 60, right: 20, top: 20, bottom: 80},
      xAxis: {type: "category", data: labels, axisLabel: {rotate: 30}},
      yAxis: {type: "value", name: name, minInterval: 1},  // counts of enterprises: whole numbers
      series: [{type: "bar", data: values, itemStyle: {color: "#c0392b"}}]
    });
  }

  bar("chart-region", data.by_region.map(function (r) { return r.region; }),
      data.by_region.map(function (r) { return r.eligible; }), "企业数");
  // A band is [low, high); a single band with low = high holds one amount shared by all.
  bar("chart-amount", data.amount_bands.map(function (r) {
        return r.low === r.high ? String(Number(r.low)) : Number(r.low) + "–" + Number(r.high);
      }),
      data.amount_bands.map(function (r) { return r.eligible; }), "企业数");
  bar("chart-industry", data.by_industry.map(function (r) { return r.section; }),
      data.by_industry.map(function (r) { return r.eligible; }), "企业数");
  bar("chart-size", data.by_size_class.map(function (r) { return r.size_class; }),
      data.by_size_class.map(function (r) { return r.eligible; }), "企业数");
})();
