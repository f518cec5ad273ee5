// Policy editor: check each expression as the officer types (debounced), and add condition rows.
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var timers = new WeakMap();

  function statusOf(input) {
    var box = input.closest(".condition") || input.closest("fieldset");
    return box.querySelector(".expr-status");
  }

  function show(input, result) {
    var status = statusOf(input);
    if (result.ok) {
      status.className = "expr-status ok";
      status.textContent = "✓ 表达式正确";
      input.setAttribute("aria-invalid", "false");
      return;
    }
    status.className = "expr-status bad";
    status.textContent = result.problems.map(function (p) {
      return (p.column ? "第 " + p.column + " 列：" : "") + p.message;
    }).join("；");
    input.setAttribute("aria-invalid", "true");
  }

  function check(input) {
    if (!input.value.trim()) { statusOf(input).textContent = ""; return; }
    fetch("/api/officer/check-expression", {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify({expr: input.value, kind: input.dataset.kind || "condition"})
    }).then(function (r) { return r.json(); }).then(function (result) {
      if (result.error) { show(input, {ok: false, problems: [{message: result.error.message}]}); return; }
      show(input, result);
    });
  }

  function watch(input) {
    input.addEventListener("input", function () {
      clearTimeout(timers.get(input));
      timers.set(input, setTimeout(function () { check(input); }, 300));
    });
    if (input.value.trim()) check(input);
  }

  document.querySelectorAll("input.expr").forEach(watch);

  var add = document.getElementById("add-condition");
  if (add) {
    add.addEventListener("click", function () {
      var rows = document.querySelectorAll("#conditions .condition");
      var row = rows[rows.length - 1].cloneNode(true);
      row.querySelectorAll("input, textarea").forEach(function (el) { el.value = ""; el.removeAttribute("aria-invalid"); });
      row.querySelector(".expr-status").textContent = "";
      add.parentNode.insertBefore(row, add);
      watch(row.querySelector("input.expr"));
    });
  }
})();
