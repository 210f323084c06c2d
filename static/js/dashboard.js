/* The live dashboard: fetch the figures every few seconds and update the page in place. */
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root || !window.fetch) return;
  var url = root.getAttribute("data-url");
  var interval = parseInt(root.getAttribute("data-interval"), 10) || 5000;
  var status = document.getElementById("live-status");
  var statusText = status && status.querySelector("[data-live-text]");
  var lastUpdated = root.getAttribute("data-updated") || "";
  var timer = null;

  function setStatus(state, template) {
    if (!status) return;
    status.setAttribute("data-state", state);
    statusText.textContent = template.replace("{time}", lastUpdated);
  }

  function setField(scope, field, value) {
    var cells = document.querySelectorAll('[data-site="' + scope + '"] [data-field="' + field + '"]');
    for (var i = 0; i < cells.length; i++) {
      var text = String(value);
      if (cells[i].textContent !== text) {
        cells[i].textContent = text;
        cells[i].classList.remove("flash-update");
        void cells[i].offsetWidth; // restart the highlight animation
        cells[i].classList.add("flash-update");
      }
    }
  }

  // As rate_text in app/attendance/counting.py writes it: the line's own people who
  // attended anywhere over its registered people, rounded down.
  function rateText(counts) {
    return counts.registered ? Math.floor(100 * counts.arrived / counts.registered) + "%" : "\u2013";
  }

  function setFields(scope, counts) {
    Object.keys(counts).forEach(function (field) { setField(scope, field, counts[field]); });
    setField(scope, "rate", rateText(counts));
  }

  function apply(data) {
    var summary = data.summary;
    summary.sites.forEach(function (site) {
      setFields(site.slug, site);
      var count = document.querySelector('[data-chart-count="' + site.slug + '"]');
      if (count) count.textContent = site.checked_in;
    });
    if (summary.online) setFields("_online", summary.online);
    setFields("_totals", summary.totals);
    // As AttendanceTotals.awaited: confirmed and not attended anywhere, online included.
    setField("_totals", "awaited", summary.totals.registered - summary.totals.arrived);
    Object.keys(data.charts).forEach(function (slug) {
      var holder = document.querySelector('[data-chart="' + slug + '"]');
      // The SVG is rendered and escaped by our own server.
      if (holder) holder.innerHTML = data.charts[slug];
    });
    lastUpdated = data.updated;
    setStatus("live", root.getAttribute("data-text-live"));
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.redirected || !response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(apply)
      .catch(function () { setStatus("offline", root.getAttribute("data-text-offline")); })
      .then(schedule);
  }

  function schedule() {
    clearTimeout(timer);
    // A hidden tab does not need live figures; catch up when it is shown again.
    if (!document.hidden) timer = setTimeout(refresh, interval);
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) refresh();
  });
  schedule();
})();
