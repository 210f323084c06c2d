/*
 * The check-in page: camera scanning, typed codes, live search, walk-ins and
 * the site's list, all through the JSON API. This module wires the parts
 * together; calls made without a connection wait in the offline queue
 * (queue.js), and search falls back to the list kept offline (roster.js).
 */
import { apiClient, newClientId } from "./api.js";
import { keepOfflineCopy } from "./offline-copy.js";
import { createQueue } from "./queue.js";
import { createRoster } from "./roster.js";
import { setUpCamera } from "./scanner.js";
import { load, save } from "./storage.js";
import { $, createView } from "./ui.js";

function deviceName() {
  let device = load("hybriddesk:device", null);
  if (!device) {
    device = "web-" + newClientId().slice(0, 8);
    save("hybriddesk:device", device);
  }
  return device;
}

function start(root) {
  const cfg = root.dataset;
  const T = JSON.parse($("checkin-text").textContent);
  const prefix = "hybriddesk:" + cfg.event + ":" + cfg.site + ":";
  const device = deviceName();
  const request = apiClient(cfg.csrf);
  const pendingOnly = $("pending-only");
  const searchInput = $("search-input");

  const view = createView({
    site: cfg.site,
    timezone: cfg.timezone,
    language: cfg.language,
    text: T,
    onUndo: undo,
    onAdmitHere: (forced) => checkIn(forced.code, { force: true, method: forced.method }),
  });
  const roster = createRoster({
    key: prefix + "roster",
    site: cfg.site,
    url: cfg.rosterUrl,
    request,
    onChange: (data) => view.renderRoster(data, pendingOnly.checked),
  });
  const queue = createQueue({
    key: prefix + "queue",
    request,
    onChange: view.showOffline,
    onDrained: roster.refresh,
  });

  // --- checking in -------------------------------------------------------------

  let busy = false;

  /** Shows the answer to a check-in, or that it waits offline, and counts an admission. */
  function showCheckIn(answer, body, successTitle) {
    if (answer.queued) {
      const person = body.code ? roster.find(body.code) : { name: body.name };
      view.show("queued", T.queued, person ? person.name : body.code, T.queued_detail);
      return;
    }
    const data = answer.data || {};
    view.showAnswer(data, body, successTitle);
    if (data.status === "ok" && data.checkin) roster.markArrived(body.code, data.checkin);
  }

  async function checkIn(code, options) {
    code = (code || "").trim();
    if (!code || busy) return;
    options = options || {};
    const body = {
      code,
      site: cfg.site,
      client_id: newClientId(),
      scanned_at: new Date().toISOString(),
      force: Boolean(options.force),
      method: options.method || "qr",
      device,
    };
    busy = true;
    try {
      showCheckIn(await queue.send("POST", cfg.checkinsUrl, body), body);
    } finally {
      busy = false;
    }
  }

  async function undo(clientId) {
    const answer = await queue.send("DELETE", cfg.checkinsUrl + "/" + encodeURIComponent(clientId));
    if (answer.queued) {
      view.show("queued", T.queued, T.undone, T.queued_detail);
    } else if (answer.status === 200) {
      view.show("neutral", T.undone, view.shownName(), "");
      roster.refresh();
    } else {
      view.show("bad", (answer.data && answer.data.message) || T.error, "", "");
    }
  }

  $("code-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("code-input");
    const code = input.value;
    input.value = "";
    checkIn(code, { method: "qr" }).then(() => input.focus());
  });

  setUpCamera({ text: T, onCode: (code) => checkIn(code, { method: "qr" }), isBusy: () => busy });

  // --- search as you type ----------------------------------------------------------

  let searchTimer = null;
  let searchSerial = 0;

  function checkInFound(person) {
    checkIn(person.code, { method: "search" }).then(() => searchInput.focus());
  }

  async function runSearch() {
    const query = searchInput.value.trim();
    const serial = ++searchSerial;
    if (query.length < 2) {
      view.clearResults();
      return;
    }
    let people;
    try {
      const answer = await request("GET", cfg.registrationsUrl + "?q=" + encodeURIComponent(query));
      if (answer.status !== 200) throw new Error("search failed");
      people = answer.data.results;
    } catch {
      people = roster.search(query);  // offline: search the list kept from the last refresh
    }
    // A later keystroke may have answered first.
    if (serial === searchSerial) view.showResults(people, checkInFound);
  }

  searchInput.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 200);
  });
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(searchTimer);
    runSearch();
  });

  // --- walk-ins ----------------------------------------------------------------------

  const walkInForm = $("walk-in-form");
  walkInForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("walk-in-error");
    error.hidden = true;
    if (!walkInForm.reportValidity()) return;
    const fields = new FormData(walkInForm);
    const body = {
      name: fields.get("name"),
      email: fields.get("email"),
      organization: fields.get("organization"),
      position: fields.get("position"),
      phone: fields.get("phone"),
      site: cfg.site,
      check_in: true,
      client_id: newClientId(),
      scanned_at: new Date().toISOString(),
      device,
    };
    const answer = await queue.send("POST", cfg.registrationsUrl, body);
    if (answer.queued) {
      walkInForm.reset();
      view.show("queued", T.queued, body.name, T.queued_detail);
      return;
    }
    if (answer.status === 201 || answer.status === 200) {
      walkInForm.reset();
      $("walk-in").open = false;
      showCheckIn({ status: answer.status, data: answer.data.checkin }, { code: answer.data.code },
        T.walk_in_done);
      roster.refresh();
      return;
    }
    error.textContent = (answer.data && answer.data.message) || T.error;
    error.hidden = false;
  });

  // --- the site's list -----------------------------------------------------------------

  pendingOnly.addEventListener("change", () => {
    const url = new URL(window.location.href);
    if (pendingOnly.checked) url.searchParams.set("pending", "1");
    else url.searchParams.delete("pending");
    window.history.replaceState(null, "", url);
    view.renderRoster(roster.data, pendingOnly.checked);
  });
  pendingOnly.form.addEventListener("submit", (event) => event.preventDefault());

  // --- start ---------------------------------------------------------------------------

  keepOfflineCopy(root);
  view.showOffline(queue.length);
  if (queue.length) queue.flush();
  roster.refresh();
  window.addEventListener("online", () => queue.flush());
  setInterval(() => {
    if (queue.length) queue.flush();
    else if (document.visibilityState === "visible") roster.refresh();
  }, 20000);
}

const root = document.getElementById("checkin");
if (root) start(root);
