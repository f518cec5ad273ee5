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
      yAxis: {type: "value", name: name},
      series: [{type: "bar", data: values, itemStyle: {color: "#c0392b"}}]
    });
  }

  bar("chart-region", data.by_region.map(function (r) { return r.region; }),
      data.by_region.map(function (r) { return r.eligible; }), "企业数");
  bar("chart-amount", data.amount_quantiles.map(function (r) { return r.quantile; }),
      data.amount_quantiles.map(function (r) { return Number(r.amount); }), "万元");
  bar("chart-size", data.by_size_class.map(function (r) { return r.size_class; }),
      data.by_size_class.map(function (r) { return r.eligible; }), "企业数");
})();
