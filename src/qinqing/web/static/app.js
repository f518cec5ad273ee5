// Every page: the navigation's menu button on narrow screens, and forms that ask before they act
// (data-confirm="…", e.g. 停用). Loaded by base.html; no inline script (the CSP forbids it).
(function () {
  "use strict";
  document.documentElement.classList.add("js"); // the menu folds only where the button works
  var toggle = document.getElementById("nav-toggle");
  var nav = document.getElementById("site-nav");
  if (toggle && nav) {
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("open", open);
    });
  }
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  });
})();
