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

  // As SiteAttendance.arrived and rate_text (app/attendance/services.py) work them out.
  function arrived(counts) { return counts.confirmed - counts.not_arrived; }

  function rateText(counts) {
    return counts.confirmed ? Math.floor(100 * arrived(counts) / counts.confirmed) + "%" : "\u2013";
  }

  function setFields(scope, counts) {
    Object.keys(counts).forEach(function (field) { setField(scope, field, counts[field]); });
    setField(scope, "arrived", arrived(counts));
    setField(scope, "rate", rateText(counts));
  }

  function apply(data) {
    var summary = data.summary;
    summary.sites.forEach(function (site) {
      setFields(site.slug, site);
      var count = document.querySelector('[data-chart-count="' + site.slug + '"]');
      if (count) count.textContent = arrived(site);
    });
    setFields("_totals", summary.totals);
    if (summary.online) {
      Object.keys(summary.online).forEach(function (field) {
        setField("_online", field, summary.online[field]);
      });
    }
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
