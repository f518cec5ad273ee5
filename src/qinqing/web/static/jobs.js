// Re-match progress after publishing: polls the JSON of #rematch's data-url until the job has finished.
(function () {
  "use strict";
  var box = document.getElementById("rematch");
  if (!box) { return; }
  var label = document.getElementById("rematch-label");
  var bar = document.getElementById("rematch-progress");

  function show(data) {
    label.textContent = data.label || "重新匹配：排队中";
    var latest = data.jobs.length ? data.jobs[0] : null;
    if (latest && latest.progress.percent !== null) { bar.value = latest.progress.percent; }
    else { bar.removeAttribute("value"); }
    box.dataset.busy = data.busy ? "true" : "false";
    var hint = document.getElementById("rematch-hint");
    if (data.hint && !hint) {
      hint = document.createElement("p");
      hint.id = "rematch-hint";
      hint.className = "muted";
      box.appendChild(hint);
    }
    if (hint) { if (data.hint) { hint.textContent = data.hint; } else { hint.remove(); } }
    if (!data.busy && latest && latest.status === "done" && !document.getElementById("rematch-done")) {
      var done = document.createElement("p");
      done.id = "rematch-done";
      done.className = "muted";
      done.textContent = "匹配结果已更新。";
      box.appendChild(done);
    }
  }

  function poll() {
    fetch(box.dataset.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        show(data);
        if (data.busy) { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }

  if (box.dataset.busy === "true") { setTimeout(poll, 500); }
})();
