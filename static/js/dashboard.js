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

  // What a screen reader hears: the numbers of people attended that changed, at most once
  // every ANNOUNCE_MS, and a lost or restored connection; never the time of each refresh.
  var ANNOUNCE_MS = 30000;
  var announcement = document.getElementById("dashboard-announcement");
  var announced = attendedNow(); // as last read out (or as the page came)
  var latest = announced; // as last fetched
  var lastAnnouncedAt = 0;
  var announceTimer = null;

  // Each line's people attended there, by line: a site's slug, or "_online".
  function attendedNow() {
    var counts = {};
    var rows = root.querySelectorAll("tbody tr[data-site]");
    for (var i = 0; i < rows.length; i++) {
      var scope = rows[i].getAttribute("data-site");
      var cell = rows[i].querySelector(
        '[data-field="' + (scope === "_online" ? "attended" : "checked_in") + '"]'
      );
      if (cell) counts[scope] = cell.textContent.trim();
    }
    return counts;
  }

  function lineName(scope) {
    var header = root.querySelector('tbody tr[data-site="' + scope + '"] th');
    return header ? header.textContent.trim() : scope;
  }

  function say(text) {
    if (!announcement) return;
    // Emptied first, so that the same words as last time are read out again.
    announcement.textContent = "";
    setTimeout(function () { announcement.textContent = text; }, 50);
  }

  function announceChanges() {
    clearTimeout(announceTimer);
    announceTimer = null;
    var lines = [];
    Object.keys(latest).forEach(function (scope) {
      if (latest[scope] === announced[scope]) return;
      lines.push(scope === "_online"
        ? root.getAttribute("data-text-online-change").replace("{count}", latest[scope])
        : root.getAttribute("data-text-change")
            .replace("{site}", lineName(scope)).replace("{count}", latest[scope]));
    });
    announced = latest;
    if (!lines.length) return;
    lastAnnouncedAt = Date.now();
    say(lines.join(". "));
  }

  function noteChanges(counts) {
    latest = counts;
    if (announceTimer) return; // already due
    var changed = Object.keys(counts).some(function (scope) {
      return counts[scope] !== announced[scope];
    });
    if (!changed) return;
    var wait = lastAnnouncedAt + ANNOUNCE_MS - Date.now();
    if (wait <= 0) announceChanges();
    else announceTimer = setTimeout(announceChanges, wait);
  }

  function setStatus(state, template) {
    if (!status) return;
    var before = status.getAttribute("data-state");
    status.setAttribute("data-state", state);
    statusText.textContent = template.replace("{time}", lastUpdated);
    if (before === state) return;
    say(state === "offline" ? statusText.textContent : root.getAttribute("data-text-reconnected"));
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
    noteChanges(attendedNow());
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
