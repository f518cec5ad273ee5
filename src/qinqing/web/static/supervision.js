// 督政策: enterprises with an eligible policy and their amount per city, drawn with the local ECharts file.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("supervision-data").textContent);
  var el = document.getElementById("chart-regions");
  var rows = data.regions.slice(0, 20);  // the table below lists every city
  if (!rows.length) { el.textContent = "暂无数据"; el.classList.add("empty"); return; }
  var chart = echarts.init(el, null, {renderer: "svg"});
  chart.setOption({
    animation: false,
    tooltip: {trigger: "axis"},
    legend: {data: ["企业数", "预计金额（万元）"]},
    grid: {left: 60, right: 70, top: 40, bottom: 90},
    xAxis: {type: "category", data: rows.map(function (r) { return r.name; }), axisLabel: {rotate: 30}},
    yAxis: [{type: "value", name: "企业数"}, {type: "value", name: "万元"}],
    series: [
      {name: "企业数", type: "bar", data: rows.map(function (r) { return r.enterprises; }), itemStyle: {color: "#c0392b"}},
      {name: "预计金额（万元）", type: "bar", yAxisIndex: 1, data: rows.map(function (r) { return Number(r.amount_total); }),
       itemStyle: {color: "#2c7fb8"}}
    ]
  });
})();
