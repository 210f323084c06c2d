/*
 * The check-in page: camera scanning, typed codes, live search, walk-ins and
 * the site's list, all through the JSON API (/api/v1) with the session cookie
 * and the page's CSRF token.
 *
 * When the connection drops, calls wait in localStorage and are sent again,
 * in order, once it is back. Each check-in carries a client_id generated here,
 * so a call that did reach the server before the connection dropped is
 * answered with its first result instead of being recorded twice.
 */
(function () {
  "use strict";

  var root = document.getElementById("checkin");
  if (!root) return;

  var cfg = root.dataset;
  var T = JSON.parse(document.getElementById("checkin-text").textContent);
  var PREFIX = "hybriddesk:" + cfg.event + ":" + cfg.site + ":";

  function $(id) { return document.getElementById(id); }

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_match, key) {
      return values[key] == null ? "" : String(values[key]);
    });
  }

  // --- storage (private browsing may refuse it; the page still works) ---------

  function load(key, fallback) {
    try {
      var value = window.localStorage.getItem(key);
      return value ? JSON.parse(value) : fallback;
    } catch (error) {
      return fallback;
    }
  }

  function save(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
    } catch (error) { /* full or unavailable: keep going in memory */ }
  }

  // --- ids ---------------------------------------------------------------------

  function newClientId() {
    var cryptoApi = window.crypto;
    // randomUUID exists only in secure contexts (HTTPS or localhost).
    if (cryptoApi && typeof cryptoApi.randomUUID === "function") {
      return cryptoApi.randomUUID();
    }
    var bytes = new Uint8Array(16);
    if (cryptoApi && typeof cryptoApi.getRandomValues === "function") {
      cryptoApi.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" +
      hex.slice(16, 20) + "-" + hex.slice(20);
  }

  var device = load("hybriddesk:device", null);
  if (!device) {
    device = "web-" + newClientId().slice(0, 8);
    save("hybriddesk:device", device);
  }

  // --- talking to the API, with the offline queue ---------------------------------

  function request(method, url, body) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": cfg.csrf },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    });
  }

  var queue = load(PREFIX + "queue", []);
  var flushing = null;

  function showOffline() {
    var status = $("offline-status");
    status.hidden = queue.length === 0;
    status.textContent = fmt(T.offline_waiting, { count: queue.length });
  }

  function enqueue(method, url, body) {
    queue.push({ method: method, url: url, body: body });
    save(PREFIX + "queue", queue);
    showOffline();
  }

  async function drainQueue() {
    while (queue.length) {
      var item = queue[0];
      var answer;
      try {
        answer = await request(item.method, item.url, item.body);
      } catch (error) {
        return false;
      }
      if (answer.status >= 500) return false;
      // Any other answer is final, even a refusal: the same client_id would get it again.
      queue.shift();
      save(PREFIX + "queue", queue);
      showOffline();
    }
    return true;
  }

  function flush() {
    if (!flushing) {
      flushing = drainQueue().then(function (done) {
        flushing = null;
        if (done) refreshRoster();
        return done;
      });
    }
    return flushing;
  }

  async function send(method, url, body) {
    // Whatever waits goes first, so an undo never overtakes its check-in.
    if (queue.length && !(await flush())) {
      enqueue(method, url, body);
      return { queued: true };
    }
    try {
      var answer = await request(method, url, body);
      if (answer.status >= 500) throw new Error("server error " + answer.status);
      return answer;
    } catch (error) {
      enqueue(method, url, body);
      return { queued: true };
    }
  }

  // --- times in the event's zone ------------------------------------------------

  function formatTime(iso) {
    if (!iso) return "";
    var moment = new Date(iso);
    var options = { timeZone: cfg.timezone, hour: "2-digit", minute: "2-digit" };
    try {
      var day = new Intl.DateTimeFormat("en-CA", { timeZone: cfg.timezone }).format(moment);
      var today = new Intl.DateTimeFormat("en-CA", { timeZone: cfg.timezone }).format(new Date());
      if (day !== today) {
        options.day = "numeric";
        options.month = "short";
      }
      return new Intl.DateTimeFormat(cfg.language, options).format(moment);
    } catch (error) {
      return moment.toLocaleString();
    }
  }

  // --- the result panel ------------------------------------------------------------

  var panel = $("result");
  var undoButton = $("undo");
  var admitHereButton = $("admit-here");
  var undoClientId = null;
  var forceRequest = null;

  function show(kind, title, name, detail) {
    panel.className = "result result-" + kind;
    $("result-title").textContent = title;
    $("result-name").textContent = name || "";
    $("result-detail").textContent = detail || "";
    panel.hidden = false;
    undoButton.hidden = true;
    admitHereButton.hidden = true;
    undoClientId = null;
    forceRequest = null;
    if (navigator.vibrate) {
      try { navigator.vibrate(kind === "ok" ? 60 : [60, 60, 60]); } catch (error) { /* ignore */ }
    }
  }

  function offerUndo(clientId) {
    undoClientId = clientId;
    undoButton.hidden = false;
  }

  function joinParts(parts) {
    return parts.filter(function (part) { return part; }).join(" · ");
  }

  function normalizeCode(code) {
    return code.replace(/\s+/g, "").toUpperCase();
  }

  function cachedPerson(code) {
    if (!roster) return null;
    var wanted = normalizeCode(code);
    return roster.registrations.find(function (person) { return person.code === wanted; }) || null;
  }

  function showAnswer(answer, body, successTitle) {
    if (answer.queued) {
      var person = body.code ? cachedPerson(body.code) : { name: body.name };
      show("queued", T.queued, person ? person.name : body.code, T.queued_detail);
      return;
    }
    var data = answer.data || {};
    var registration = data.registration || {};
    if (data.status === "ok" && data.checkin) {
      var checkin = data.checkin;
      var detail = joinParts([registration.organization, checkin.site_name]);
      if (checkin.forced) detail = joinParts([detail, T.forced]);
      show("ok", successTitle || T.admitted, registration.name, detail);
      offerUndo(checkin.client_id);
      markArrived(body.code, checkin);
      return;
    }
    switch (data.reason) {
      case "already_checked_in": {
        var previous = data.previous || {};
        show("already", T.already_checked_in, registration.name, fmt(T.checked_in_at, {
          time: formatTime(previous.scanned_at),
          site: previous.site_name || "",
          staff: previous.staff || "",
        }));
        // The earlier admission may be the mistake: let it be undone from here.
        if (previous.client_id && previous.site === cfg.site) offerUndo(previous.client_id);
        return;
      }
      case "wrong_site": {
        show("warn", T.wrong_site, registration.name, registration.site_name
          ? fmt(T.registered_for, { site: registration.site_name })
          : T.registered_online);
        forceRequest = { code: body.code, method: body.method };
        admitHereButton.hidden = false;
        return;
      }
      case "not_admitted":
        show("bad", T.not_admitted, registration.name, data.message);
        return;
      case "unknown_code":
        show("unknown", T.unknown_code, body.code, data.message);
        return;
      default:
        show("bad", data.message || T.error, "", "");
    }
  }

  undoButton.addEventListener("click", async function () {
    if (!undoClientId) return;
    var clientId = undoClientId;
    undoButton.hidden = true;
    var answer = await send("DELETE", cfg.checkinsUrl + "/" + encodeURIComponent(clientId));
    if (answer.queued) {
      show("queued", T.queued, T.undone, T.queued_detail);
    } else if (answer.status === 200) {
      show("neutral", T.undone, $("result-name").textContent, "");
      refreshRoster();
    } else {
      show("bad", (answer.data && answer.data.message) || T.error, "", "");
    }
  });

  admitHereButton.addEventListener("click", function () {
    if (forceRequest) checkIn(forceRequest.code, { force: true, method: forceRequest.method });
  });

  // --- checking in -----------------------------------------------------------------

  var busy = false;

  async function checkIn(code, options) {
    code = (code || "").trim();
    if (!code || busy) return;
    options = options || {};
    var body = {
      code: code,
      site: cfg.site,
      client_id: newClientId(),
      scanned_at: new Date().toISOString(),
      force: Boolean(options.force),
      method: options.method || "qr",
      device: device,
    };
    busy = true;
    try {
      showAnswer(await send("POST", cfg.checkinsUrl, body), body);
    } finally {
      busy = false;
    }
  }

  $("code-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = $("code-input");
    var code = input.value;
    input.value = "";
    checkIn(code, { method: "qr" }).then(function () { input.focus(); });
  });

  // --- search as you type -------------------------------------------------------------

  var searchInput = $("search-input");
  var searchResults = $("search-results");
  var searchTimer = null;
  var searchSerial = 0;

  function fold(text) {
    return (text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function localSearch(query) {
    if (!roster) return [];
    var words = fold(query).split(/\s+/).filter(Boolean);
    return roster.registrations.filter(function (person) {
      var text = fold(person.name + " " + person.organization);
      return words.every(function (word) { return text.indexOf(word) !== -1; });
    }).slice(0, 20);
  }

  function personItem(person, withButton) {
    var item = document.createElement("li");
    item.className = "person" + (person.checkin ? " arrived" : "");
    var main = document.createElement("div");
    main.className = "person-main";
    var name = document.createElement("strong");
    name.className = "person-name";
    name.textContent = person.name;
    main.appendChild(name);
    var about = joinParts([
      person.organization,
      person.site && person.site !== cfg.site ? person.site_name : "",
      person.mode === "online" ? T.registered_online : "",
    ]);
    if (about) {
      var detail = document.createElement("span");
      detail.className = "muted";
      detail.textContent = about;
      main.appendChild(detail);
    }
    item.appendChild(main);

    var state = document.createElement("div");
    state.className = "person-state";
    if (person.status !== "confirmed") {
      state.appendChild(badge(person.status, person.status_label));
    }
    if (person.checkin) {
      state.appendChild(badge(person.checkin.site === cfg.site ? "admitted" : "", person.checkin.site === cfg.site
        ? fmt(T.arrived_at, { time: formatTime(person.checkin.scanned_at) })
        : fmt(T.arrived_elsewhere, {
          time: formatTime(person.checkin.scanned_at), site: person.checkin.site_name,
        })));
    } else if (person.expected !== undefined ? person.expected
      : person.site === cfg.site && person.status === "confirmed") {
      state.appendChild(badge("pending", T.not_yet));
    }
    if (withButton) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button";
      button.textContent = T.check_in;
      button.addEventListener("click", function () {
        checkIn(person.code, { method: "search" }).then(function () { searchInput.focus(); });
      });
      state.appendChild(button);
    }
    item.appendChild(state);
    return item;
  }

  function badge(kind, text) {
    var span = document.createElement("span");
    span.className = "badge " + kind;
    span.textContent = text;
    return span;
  }

  function showResults(people) {
    searchResults.replaceChildren();
    if (!people.length) {
      var empty = document.createElement("li");
      empty.className = "muted empty";
      empty.textContent = T.no_results;
      searchResults.appendChild(empty);
      return;
    }
    people.forEach(function (person) { searchResults.appendChild(personItem(person, true)); });
  }

  async function runSearch() {
    var query = searchInput.value.trim();
    var serial = ++searchSerial;
    if (query.length < 2) {
      searchResults.replaceChildren();
      return;
    }
    var people;
    try {
      var answer = await request("GET", cfg.registrationsUrl + "?q=" + encodeURIComponent(query));
      if (answer.status !== 200) throw new Error("search failed");
      people = answer.data.results;
    } catch (error) {
      people = localSearch(query);  // offline: search the list kept from the last refresh
    }
    if (serial === searchSerial) showResults(people);  // a later keystroke may have answered first
  }

  searchInput.addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 200);
  });
  $("search-form").addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(searchTimer);
    runSearch();
  });

  // --- walk-ins ---------------------------------------------------------------------

  var walkInForm = $("walk-in-form");
  walkInForm.addEventListener("submit", async function (event) {
    event.preventDefault();
    var error = $("walk-in-error");
    error.hidden = true;
    if (!walkInForm.reportValidity()) return;
    var fields = new FormData(walkInForm);
    var body = {
      name: fields.get("name"),
      email: fields.get("email"),
      organization: fields.get("organization"),
      position: fields.get("position"),
      phone: fields.get("phone"),
      site: cfg.site,
      check_in: true,
      client_id: newClientId(),
      scanned_at: new Date().toISOString(),
      device: device,
    };
    var answer = await send("POST", cfg.registrationsUrl, body);
    if (answer.queued) {
      walkInForm.reset();
      show("queued", T.queued, body.name, T.queued_detail);
      return;
    }
    if (answer.status === 201 || answer.status === 200) {
      walkInForm.reset();
      $("walk-in").open = false;
      showAnswer({ status: answer.status, data: answer.data.checkin }, { code: answer.data.code },
        T.walk_in_done);
      refreshRoster();
      return;
    }
    error.textContent = (answer.data && answer.data.message) || T.error;
    error.hidden = false;
  });

  // --- the site's list -----------------------------------------------------------------

  var roster = load(PREFIX + "roster", null);
  var rosterList = $("roster");
  var pendingOnly = $("pending-only");

  function renderRoster() {
    if (!roster) return;
    $("count-arrived").textContent = roster.counts.arrived;
    $("count-expected").textContent = roster.counts.expected;
    $("count-pending").textContent = roster.counts.not_arrived;
    var people = roster.registrations.filter(function (person) {
      return !pendingOnly.checked || (person.expected && !person.checkin);
    });
    rosterList.replaceChildren();
    people.forEach(function (person) { rosterList.appendChild(personItem(person, false)); });
  }

  function markArrived(code, checkin) {
    var person = code && cachedPerson(code);
    if (!person || person.checkin) return;
    person.checkin = {
      client_id: checkin.client_id, scanned_at: checkin.scanned_at,
      site: checkin.site, site_name: checkin.site_name,
    };
    person.arrived_here = checkin.site === cfg.site;
    if (person.arrived_here) roster.counts.arrived += 1;
    if (person.expected) roster.counts.not_arrived -= 1;
    renderRoster();
  }

  async function refreshRoster() {
    try {
      var answer = await request("GET", cfg.rosterUrl);
      if (answer.status !== 200) return;
      roster = answer.data;
      save(PREFIX + "roster", roster);
      renderRoster();
    } catch (error) { /* offline: keep the list we have */ }
  }

  pendingOnly.addEventListener("change", function () {
    var url = new URL(window.location.href);
    if (pendingOnly.checked) url.searchParams.set("pending", "1");
    else url.searchParams.delete("pending");
    window.history.replaceState(null, "", url);
    renderRoster();
  });
  pendingOnly.form.addEventListener("submit", function (event) { event.preventDefault(); });

  // --- the camera -----------------------------------------------------------------------

  var scanner = null;
  var cameras = [];
  var lastCode = "";
  var lastCodeAt = 0;
  var cameraToggle = $("camera-toggle");
  var cameraSwitch = $("camera-switch");

  function cameraMessage(text) {
    var message = $("camera-message");
    message.textContent = text;
    message.hidden = !text;
  }

  function onScan(result) {
    var code = typeof result === "string" ? result : result.data;
    var now = Date.now();
    // The camera sees the same badge many times a second; act on it once.
    if (!code || busy || (code === lastCode && now - lastCodeAt < 4000)) return;
    lastCode = code;
    lastCodeAt = now;
    checkIn(code, { method: "qr" });
  }

  async function startCamera() {
    if (!window.QrScanner || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      cameraMessage(T.camera_unavailable);
      return;
    }
    scanner = new window.QrScanner($("camera-video"), onScan, {
      preferredCamera: load("hybriddesk:camera", "environment"),
      highlightScanRegion: true,
      highlightCodeOutline: true,
      returnDetailedScanResult: true,
      maxScansPerSecond: 8,
    });
    try {
      await scanner.start();
    } catch (error) {
      scanner.destroy();
      scanner = null;
      cameraMessage(T.camera_unavailable);
      return;
    }
    cameraMessage("");
    $("camera").hidden = false;
    cameraToggle.textContent = T.camera_stop;
    try {
      cameras = await window.QrScanner.listCameras(true);
    } catch (error) {
      cameras = [];
    }
    cameraSwitch.hidden = cameras.length < 2;
  }

  function stopCamera() {
    if (scanner) {
      scanner.stop();
      scanner.destroy();
      scanner = null;
    }
    $("camera").hidden = true;
    cameraSwitch.hidden = true;
    cameraToggle.textContent = T.camera_start;
  }

  if (window.isSecureContext && navigator.mediaDevices) {
    cameraToggle.hidden = false;
    cameraToggle.addEventListener("click", function () {
      if (scanner) stopCamera(); else startCamera();
    });
    cameraSwitch.addEventListener("click", function () {
      if (!scanner || cameras.length < 2) return;
      var current = load("hybriddesk:camera", "environment");
      var index = cameras.findIndex(function (camera) { return camera.id === current; });
      var next = cameras[(index + 1) % cameras.length];
      save("hybriddesk:camera", next.id);
      scanner.setCamera(next.id);
    });
  } else {
    cameraMessage(T.camera_unavailable);
  }

  // --- a copy of this page for reloading without a connection -----------------------------

  function keepOfflineCopy() {
    if (!("serviceWorker" in navigator) || !window.caches || !cfg.serviceWorkerUrl) return;
    navigator.serviceWorker.register(cfg.serviceWorkerUrl).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function () {
      var assets = Array.prototype.map.call(
        document.querySelectorAll("link[rel=stylesheet][href], script[src]"),
        function (element) { return element.href || element.src; }
      );
      return caches.open("hybriddesk-checkin-v1").then(function (cache) {
        return cache.addAll([window.location.pathname].concat(assets));
      });
    }).then(function () {
      root.dataset.offlineReady = "1";
    }).catch(function () { /* no offline copy: the page still works online */ });
  }

  // --- start ------------------------------------------------------------------------------

  keepOfflineCopy();

  showOffline();
  if (queue.length) flush();
  refreshRoster();
  window.addEventListener("online", flush);
  setInterval(function () {
    if (queue.length) flush();
    else if (document.visibilityState === "visible") refreshRoster();
  }, 20000);
}());
