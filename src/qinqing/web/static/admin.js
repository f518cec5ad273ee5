// 用户管理: show only the binding fields of the chosen role (the server checks them again).
(function () {
  "use strict";
  var role = document.getElementById("role");
  function show() {
    document.querySelectorAll("label.binding").forEach(function (label) {
      label.hidden = label.dataset.role !== role.value;
    });
  }
  role.addEventListener("change", show);
  show();
})();
