// Shows each <time data-local> also in the viewer's own time zone, and a live countdown; asks
// before submitting a <form data-confirm="question"> (no inline handlers: the CSP forbids them).
(function () {
  "use strict";
  // The same words as lockstep/embargo/wording.py `relative`: "in 25 minutes", "in 1 hour
  // 20 minutes", "in 3 days", "2 hours ago", "now"; whole units, rounded down.
  function unit(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  function words(big, bigWord, small, smallWord) {
    return small ? unit(big, bigWord) + " " + unit(small, smallWord) : unit(big, bigWord);
  }
  function span(ms) {
    var past = ms < 0; ms = Math.abs(ms);
    var minutes = Math.floor(ms / 60000), hours = Math.floor(minutes / 60), days = Math.floor(hours / 24);
    if (minutes < 1) { return "now"; }
    var text;
    if (hours < 1) { text = unit(minutes, "minute"); }
    else if (days < 1) { text = hours < 3 && minutes % 60 ? words(hours, "hour", minutes % 60, "minute") : unit(hours, "hour"); }
    else { text = days < 3 && hours % 24 ? words(days, "day", hours % 24, "hour") : unit(days, "day"); }
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
