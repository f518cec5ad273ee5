// 三色图: the province's cities coloured by their tier (ECharts 4.9.0 and its own map file, no network).
(function () {
  var holder = document.getElementById("index-map");
  var dataNode = document.getElementById("index-data");
  if (!holder || !dataNode || !window.echarts) { return; }
  var view = JSON.parse(dataNode.textContent);
  var byName = {};
  view.units.forEach(function (u) { byName[u.name] = u; });
  fetch(holder.getAttribute("data-map-url")).then(function (r) { return r.json(); }).then(function (geo) {
    var mapName = holder.getAttribute("data-map-name");
    echarts.registerMap(mapName, geo);
    var regions = [];
    geo.features.forEach(function (f) {
      var u = byName[f.properties.name];
      regions.push({ name: f.properties.name, itemStyle: { areaColor: u ? u.colour : "#eeeeee" } });
    });
    var chart = echarts.init(holder);
    chart.setOption({
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var u = byName[p.name];
          if (!u) { return p.name + "：无数据"; }
          var score = u.score === null ? "—" : u.score.toFixed(2);
          var rank = u.rank === null ? "不参与排名" : "第 " + u.rank + " 名";
          return p.name + "<br>得分 " + score + "，" + rank + "<br>" + (u.tier_label || u.tier_reason || "");
        }
      },
      series: [{ type: "map", map: mapName, roam: false, label: { show: true }, data: regions,
                 emphasis: { label: { show: true } } }]
    });
    holder.setAttribute("data-ready", "1");
    chart.on("click", function (p) {
      var u = byName[p.name];
      if (u) { window.location.href = "/indices/" + view.index_id + "/units/" + u.unit + "?period=" + view.period; }
    });
  });
})();
