/*
 * The check-in page: camera scanning, typed codes, live search, walk-ins and
 * the site's list, all through the JSON API. This module wires the parts
 * together; calls made without a connection wait in the offline queue
 * (queue.js), and search falls back to the list kept offline (roster.js).
 * Whatever the server answers about a person's arrival goes through
 * recordArrival(), which redraws them wherever they are shown. The session
 * chooser, when the event has sessions that count attendance, makes scans and
 * typed or found names admit to that session; the lists show the day's
 * admissions at the door, so a session's answers leave them as they are.
 *
 * Offline, a check-in is judged from the list kept on the device (an unknown
 * code, someone already in, registered elsewhere, not admitted) and shown as
 * "to be confirmed"; an admission counts at once. What was shown is kept with
 * the queued call, and once the server answers, every scan whose answer differs
 * is listed for the coordinator. After every action the code field has focus.
 */
import { apiClient, newClientId } from "./api.js";
import { openQueue } from "./queue.js";
import "./queue-file.js";  // "Save the queue to a file": starts on its own
import { arrivalOf, offlineVerdict, openRoster } from "./roster.js";
import { setUpCamera } from "./scanner.js";
import {
  forgetEnded, isExpired, load, moveFromLocalStorage, rememberEnd, save,
} from "./storage.js";
import { fmt, normalizeCode } from "./text.js";
import { $, createView } from "./ui.js";

function deviceName() {
  let device = load("hybriddesk:device", null);
  if (!device) {
    device = "web-" + newClientId().slice(0, 8);
    save("hybriddesk:device", device);
  }
  return device;
}

async function start(root) {
  const cfg = root.dataset;
  const T = JSON.parse($("checkin-text").textContent);
  const prefix = "hybriddesk:" + cfg.event + ":" + cfg.site + ":";
  // What an older page kept in localStorage moves to IndexedDB first, queues before lists.
  await moveFromLocalStorage();
  // Before the list is read: a list kept from an event long over is dropped, not shown.
  rememberEnd(prefix, cfg.eventEnds, window.location.pathname);
  await forgetEnded();
  const device = deviceName();
  const request = apiClient(cfg.csrf);
  const pendingOnly = $("pending-only");
  const searchInput = $("search-input");
  const sessionSelect = $("session-select");
  const sessionTitles = {};
  if (sessionSelect) {
    for (const option of sessionSelect.options) {
      if (option.value) sessionTitles[option.value] = option.textContent;
    }
    // The session chosen last on this device stays chosen across reloads, while it exists.
    const chosen = load(prefix + "session", "");
    if (chosen && sessionTitles[chosen]) sessionSelect.value = chosen;
    sessionSelect.addEventListener("change", () => save(prefix + "session", sessionSelect.value));
  }

  const view = createView({
    site: cfg.site,
    timezone: cfg.timezone,
    language: cfg.language,
    text: T,
    sessionTitles,
    onUndo: (request) => undo(request).then(focusCode),
    onAdmitHere: (forced) => checkIn(forced.code, {
      force: true, method: forced.method, session: forced.session || "",
    }).then(focusCode),
    onCheckIn: checkInListed,
  });
  const roster = await openRoster({
    key: prefix + "roster",
    site: cfg.site,
    url: cfg.rosterUrl,
    timezone: cfg.timezone,
    request,
    onChange: renderRoster,
    overlay: applyQueued,
  });
  const queue = await openQueue({
    key: prefix + "queue",
    request,
    onChange: (count) => {
      view.showOffline(count);
      view.showConnection({ waiting: count });
    },
    onSending: (sending) => view.showConnection({ sending }),
    onSent: reconcile,
    onDrained: catchUp,
  });
  const codeInput = $("code-input");

  function focusCode() {
    codeInput.focus();
  }

  function renderRoster() {
    if (!roster.data) return;
    // The list is on this device: from now on a scan without a connection gets a verdict.
    root.dataset.listKept = "1";
    view.renderRoster(roster.data.registrations, roster.counts, pendingOnly.checked);
  }

  // --- checking in -------------------------------------------------------------

  let busy = false;
  // The client_id of the check-in the result panel shows as "to be confirmed", if any.
  let unconfirmedShown = null;

  /** This device's admission of `body`, before the server has heard of it. */
  function offlineArrival(body) {
    return {
      client_id: body.client_id, scanned_at: body.scanned_at,
      site: cfg.site, site_name: cfg.siteName, offline: true,
    };
  }

  /**
   * What was shown about a check-in made offline, kept with it in the queue; with
   * it, someone of another site let in here, to stand on the list until it names them.
   */
  function checkInNote(body, person) {
    const note = { verdict: offlineVerdict(person, body, cfg.site), name: person ? person.name : "" };
    if (person && person.elsewhere) note.person = person;
    return note;
  }

  /** Shows the answer to a check-in, or the verdict of the list kept offline; records an arrival. */
  function showCheckIn(answer, body, person) {
    if (answer.queued) {
      const verdict = offlineVerdict(person, body, cfg.site);
      view.showOfflineVerdict(verdict, person, body);
      unconfirmedShown = body.client_id;
      if (verdict === "admitted") recordAdmission(body, offlineArrival(body), person);
      return;
    }
    unconfirmedShown = null;
    const data = answer.data || {};
    view.showAnswer(data, body);
    if (data.status === "ok" && data.checkin) {
      recordAdmission(body, data.checkin);
    } else if (data.reason === "already_checked_in" && data.previous) {
      // Already in: the answer says where, which this page may not have known.
      recordAdmission(body, data.previous);
    }
  }

  /**
   * `body`'s person was admitted (`checkin`): to the day, or to the session it names,
   * which the lists do not show. `person` stands in for someone not on the list.
   */
  function recordAdmission(body, checkin, person) {
    if (body.session) roster.setSession(normalizeCode(body.code), body.session, true);
    else recordArrival(body.code, checkin, person);
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
    const session = options.session !== undefined ? options.session
      : (sessionSelect ? sessionSelect.value : "");
    if (session) body.session = Number(session);
    busy = true;
    try {
      // Looked up first, in case the answer has to come from the list on this device.
      const person = await roster.lookup(code);
      const answer = await queue.send("POST", cfg.checkinsUrl, body, () => checkInNote(body, person));
      showCheckIn(answer, body, person);
    } finally {
      busy = false;
    }
  }

  function recordUndo(code, session) {
    if (session) roster.setSession(normalizeCode(code), session, false);
    else recordArrival(code, null);
  }

  async function undo({ clientId, code, session }) {
    const name = view.shownName();
    const answer = await queue.send("DELETE", cfg.checkinsUrl + "/" + encodeURIComponent(clientId),
      undefined, () => ({ verdict: "undone", name, code, session, clientId }));
    unconfirmedShown = null;
    if (answer.queued) {
      view.show("neutral", T.undone, name, T.offline_unconfirmed);
      recordUndo(code, session);
    } else if (answer.status === 200) {
      view.show("neutral", T.undone, view.shownName(), "");
      recordUndo(code, session);
    } else {
      view.show("bad", (answer.data && answer.data.message) || T.error, "", "");
    }
  }

  $("code-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = codeInput.value;
    codeInput.value = "";
    checkIn(code, { method: "qr" }).then(focusCode);
  });

  setUpCamera({
    text: T, library: cfg.cameraLibrary,
    onCode: (code) => checkIn(code, { method: "qr" }), isBusy: () => busy,
  });

  // --- search as you type ----------------------------------------------------------

  let searchTimer = null;
  // The search on its way, if any: a newer one cancels it, so only the newest query is shown.
  let searchController = null;
  // The people the search list shows, or null when it is empty.
  let results = null;

  function showResults(people) {
    results = people;
    view.showResults(people);
  }

  function checkInListed(code, fromSearch) {
    checkIn(code, { method: "search" }).then(() => { if (fromSearch) searchInput.focus(); });
  }

  async function runSearch() {
    const query = searchInput.value.trim();
    if (searchController) searchController.abort();
    searchController = null;
    if (query.length < 2) {
      showResults(null);
      return;
    }
    const controller = new AbortController();
    searchController = controller;
    let people;
    try {
      const answer = await request("GET", cfg.registrationsUrl + "?q=" + encodeURIComponent(query),
        undefined, { signal: controller.signal });
      if (answer.status !== 200) throw new Error("search failed");
      people = answer.data.results;
    } catch {
      if (controller.signal.aborted) return;
      people = roster.search(query);  // offline: search the list kept from the last refresh
    }
    // Answered after a newer search started: that one is shown instead.
    if (controller !== searchController) return;
    searchController = null;
    showResults(people);
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

  // --- what is known about each person -----------------------------------------

  /**
   * The server said where this person's live admission is (`checkin`), or that
   * they have none (null, after an undo): redraw them on the site's list and
   * in the search results.
   */
  function recordArrival(code, checkin, standIn) {
    code = normalizeCode(code);
    const listed = roster.setArrival(code, checkin, standIn);
    // Someone from elsewhere let in here now belongs on this site's list.
    if (!listed && checkin && checkin.site === cfg.site) roster.refresh();
    const found = (results || []).filter((person) => person.code === code);
    found.forEach((person) => { person.checkin = arrivalOf(checkin); });
    if (found.length) view.showResults(results);
    // A search already on its way was answered from before this change: ask again.
    if (searchController) runSearch();
  }

  // --- catching up once the connection is back -------------------------------------

  // Lines for the check-ins whose answer differs from what was shown offline.
  let changes = [];

  /** Lays the check-ins and undos still waiting to be sent over a list from the server. */
  function applyQueued(data) {
    const byCode = new Map(data.registrations.map((person) => [person.code, person]));
    for (const item of queue.items) {
      const note = item.note;
      if (!note) continue;
      if (note.verdict === "admitted" && item.body) {
        const code = normalizeCode(item.body.code);
        let person = byCode.get(code);
        if (!person && note.person && !item.body.session) {
          // Let in here from another site: on the list until the server's names them.
          person = { ...note.person, name: note.person.name || code, elsewhere: undefined };
          data.registrations.push(person);
          byCode.set(code, person);
        }
        if (!person) continue;
        if (item.body.session) {
          person.sessions = [...(person.sessions || []), item.body.session];
        } else {
          person.checkin = arrivalOf(offlineArrival(item.body));
          person.arrived_here = true;
        }
      } else if (note.verdict === "undone") {
        const person = byCode.get(normalizeCode(note.code));
        if (!person) continue;
        if (note.session) {
          person.sessions = (person.sessions || []).filter((id) => id !== note.session);
        } else if (person.checkin && person.checkin.client_id === note.clientId) {
          person.checkin = null;
        }
      }
    }
  }

  /** The server answered a call sent from the queue: record it, and note any difference. */
  function reconcile(item, answer) {
    const note = item.note;
    if (!note) return;
    if (note.verdict === "undone") {
      if (answer.status !== 200) {
        changes.push(fmt(T.change_other, {
          name: note.name, result: (answer.data && answer.data.message) || T.error,
        }));
      }
      return;
    }
    const body = item.body;
    const data = answer.data || {};
    const verdict = data.status === "ok" ? "admitted" : data.reason;
    const name = note.name || (data.registration && data.registration.name) || body.code;
    if (verdict !== note.verdict) {
      const previous = data.previous;
      if (verdict === "already_checked_in" && previous) {
        const other = previous.device && previous.device !== device;
        changes.push(fmt(other ? T.change_already_other_device : T.change_already, {
          name, time: view.formatTime(previous.scanned_at), staff: previous.staff || "",
        }));
      } else {
        changes.push(fmt(T.change_other, { name, result: data.message || T.error }));
      }
    }
    if (unconfirmedShown === body.client_id) {
      // The card still shows this scan as waiting: it shows the server's answer now.
      showCheckIn(answer, body);
    } else if (data.status === "ok" && data.checkin) {
      recordAdmission(body, data.checkin);
    } else if (verdict === "already_checked_in" && data.previous) {
      recordAdmission(body, data.previous);
    }
  }

  /** Calls sent from the offline queue changed people's state: read it again. */
  function catchUp() {
    if (changes.length) view.showChanges(changes);
    changes = [];
    roster.refresh();
    if (results) runSearch();
  }

  $("sync-changes-close").addEventListener("click", () => {
    view.showChanges([]);
    focusCode();
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
      unconfirmedShown = null;
      view.show("queued", T.queued, body.name, T.queued_detail);
      focusCode();
      return;
    }
    if (answer.status === 201 || answer.status === 200) {
      walkInForm.reset();
      $("walk-in").open = false;
      // A walk-in is admitted at the door, whichever session is chosen.
      const admission = answer.data.checkin || {};
      unconfirmedShown = null;
      view.showAnswer(admission, { code: answer.data.code }, T.walk_in_done);
      if (admission.checkin) recordArrival(answer.data.code, admission.checkin);
      roster.refresh();
      focusCode();
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
    renderRoster();
  });
  pendingOnly.form.addEventListener("submit", (event) => event.preventDefault());

  // --- start ---------------------------------------------------------------------------

  focusCode();
  view.showOffline(queue.length);
  view.showConnection({ waiting: queue.length });
  if (roster.fromAnotherDay) renderRoster();
  if (queue.length) queue.flush();
  // The offline copy comes once the list is drawn, as scanning does not need it; once the
  // event is long over, the page is not kept for offline use.
  roster.refresh().finally(() => {
    if (isExpired(prefix)) return;
    import("./offline-copy.js").then(
      (offlineCopy) => offlineCopy.keepOfflineCopy(root),
      () => { /* gone offline meanwhile: kept on the next view */ },
    );
  });
  window.addEventListener("online", () => {
    view.showConnection({ online: true });
    queue.flush();
  });
  window.addEventListener("offline", () => view.showConnection({ online: false }));
  setInterval(() => {
    if (queue.length) queue.flush();
    else if (document.visibilityState === "visible") roster.refresh();
  }, 20000);
  setInterval(() => forgetEnded(), 60000);
  // Typed before the page's script was ready (reading the device's store takes a moment):
  // search for it now rather than waiting for another key.
  if (searchInput.value.trim()) runSearch();
  // Every control answers from here on.
  root.dataset.ready = "1";
}

const root = document.getElementById("checkin");
if (root) start(root);
