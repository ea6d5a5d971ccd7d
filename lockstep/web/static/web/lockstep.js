// Shows each <time data-local> also in the viewer's own time zone, and a live countdown; asks
// before submitting a <form data-confirm="question"> (no inline handlers: the CSP forbids them).
(function () {
  "use strict";
  function pad(n) { return String(n).padStart(2, "0"); }
  function span(ms) {
    var past = ms < 0; ms = Math.abs(ms);
    var d = Math.floor(ms / 86400000), h = Math.floor(ms / 3600000) % 24, m = Math.floor(ms / 60000) % 60;
    var text = (d ? d + "d " : "") + h + "h " + pad(m) + "m";
    return past ? text + " ago" : "in " + text;
  }
  function update() {
    document.querySelectorAll("time[data-local]").forEach(function (el) {
      var at = new Date(el.getAttribute("datetime"));
      if (isNaN(at)) { return; }
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      var local = at.toLocaleString(undefined, { weekday: "short", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
      var extra = el.parentNode.querySelector(".local");
      if (!extra) { extra = document.createElement("span"); extra.className = "local muted"; el.parentNode.appendChild(extra); }
      var parts = [" · " + local + " (" + zone + ")"];
      if (el.hasAttribute("data-countdown")) { parts.push(" · " + span(at - new Date())); }
      extra.textContent = parts.join("");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { update(); setInterval(update, 30000); });
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
})();
