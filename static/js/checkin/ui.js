/*
 * What the check-in page shows: the answer to the last check-in (with its undo
 * and "admit here" buttons), people in the search results and on the site's
 * list, the counts, and how many calls wait offline. Times are shown in the
 * event's time zone. A person's row is drawn in one place, personRow(), from
 * what is known about them; templates/checkin/_person.html draws the same.
 * Every result is read out through a live region that is on the page from the
 * start (one added or shown later is not always announced).
 */
import { scanTime } from "../times.js";
import { fmt, normalizeCode } from "./text.js";

export function $(id) { return document.getElementById(id); }

function joinParts(parts) {
  return parts.filter(Boolean).join(" · ");
}

function badge(kind, text) {
  const span = document.createElement("span");
  span.className = kind ? "badge " + kind : "badge";
  span.textContent = text;
  return span;
}

function emptyRow(text) {
  const item = document.createElement("li");
  item.className = "muted empty";
  item.textContent = text;
  return item;
}

/**
 * The page's view. `site`, `timezone` and `language` come from the page's
 * data attributes, `text` is its translated messages, `sessionTitles` names the
 * sessions that may be chosen, by id; `onUndo({ clientId, code, session })`,
 * `onAdmitHere({ code, method })` and `onCheckIn(code, fromSearch)` run when
 * those buttons are pressed.
 */
export function createView({
  site, timezone, language, text: T, sessionTitles = {}, onUndo, onAdmitHere, onCheckIn,
}) {
  const panel = $("result");
  const undoButton = $("undo");
  const admitHereButton = $("admit-here");
  const searchResults = $("search-results");
  const rosterList = $("roster");
  const announcer = $("result-announcement");
  let announceTimer = null;
  let undoRequest = null;
  let forceRequest = null;

  function formatTime(iso) {
    if (!iso) return "";
    const moment = new Date(iso);
    try {
      return scanTime(moment, { timeZone: timezone, language });
    } catch {
      return moment.toLocaleString();
    }
  }

  // --- the result panel ------------------------------------------------------

  /** Reads `message` out: emptied first, so that the same result twice is announced twice. */
  function announce(message) {
    clearTimeout(announceTimer);
    announcer.textContent = "";
    announceTimer = setTimeout(() => { announcer.textContent = message; }, 100);
  }

  function show(kind, title, name, detail) {
    panel.className = "result result-" + kind;
    $("result-title").textContent = title;
    $("result-name").textContent = name || "";
    $("result-detail").textContent = detail || "";
    panel.hidden = false;
    announce([title, name, detail].filter(Boolean).join(". "));
    undoButton.hidden = true;
    admitHereButton.hidden = true;
    undoRequest = null;
    forceRequest = null;
    if (navigator.vibrate) {
      try { navigator.vibrate(kind === "ok" ? 60 : [60, 60, 60]); } catch { /* ignore */ }
    }
  }

  function offerUndo(clientId, code, session) {
    undoRequest = { clientId, code: normalizeCode(code), session: session || null };
    undoButton.hidden = false;
  }

  /** The answer to a check-in, admitted or refused (`body` is what was sent). */
  function showAnswer(data, body, successTitle) {
    const registration = data.registration || {};
    const session = body.session || null;
    const sessionTitle = session ? sessionTitles[String(session)] || "" : "";
    if (data.status === "ok" && data.checkin) {
      const checkin = data.checkin;
      let detail = joinParts([registration.organization, sessionTitle, checkin.site_name]);
      if (checkin.forced) detail = joinParts([detail, T.forced]);
      show("ok", successTitle || (session ? T.admitted_to_session : T.admitted),
        registration.name, detail);
      offerUndo(checkin.client_id, body.code, session);
      return;
    }
    switch (data.reason) {
      case "already_checked_in": {
        const previous = data.previous || {};
        show("already", session ? T.already_in_session : T.already_checked_in, registration.name,
          joinParts([sessionTitle, fmt(T.checked_in_at, {
            time: formatTime(previous.scanned_at),
            site: previous.site_name || "",
            staff: previous.staff || "",
          })]));
        // The earlier admission may be the mistake: let it be undone from here.
        if (previous.client_id && previous.site === site) {
          offerUndo(previous.client_id, body.code, session);
        }
        return;
      }
      case "wrong_site": {
        show("warn", T.wrong_site, registration.name, registration.site_name
          ? fmt(T.registered_for, { site: registration.site_name })
          : T.registered_online);
        forceRequest = { code: body.code, method: body.method, session: session ? String(session) : "" };
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

  /**
   * What the list kept on this device says about a check-in made offline
   * (`verdict`, see offlineVerdict in roster.js), marked as still to be
   * confirmed by the server.
   */
  function showOfflineVerdict(verdict, person, body) {
    const session = body.session || null;
    const sessionTitle = session ? sessionTitles[String(session)] || "" : "";
    // Someone of another site is known offline by their code only.
    const name = (person && person.name) || body.code;
    const registeredFor = person && person.site_name
      ? fmt(T.registered_for, { site: person.site_name }) : T.registered_online;
    const unconfirmed = T.offline_unconfirmed;
    switch (verdict) {
      case "admitted":
        show("ok", session ? T.admitted_to_session : T.admitted, name,
          joinParts([person.organization, sessionTitle, body.force ? T.forced : "", unconfirmed]));
        offerUndo(body.client_id, body.code, session);
        return;
      case "already_checked_in": {
        if (session) {
          show("already", T.already_in_session, name, joinParts([sessionTitle, unconfirmed]));
          return;
        }
        const arrival = person.checkin;
        let where = registeredFor;  // admitted at their own site today, when is not known here
        if (arrival.site === site) {
          where = fmt(T.arrived_at, { time: formatTime(arrival.scanned_at) });
        } else if (arrival.scanned_at) {
          where = fmt(T.arrived_elsewhere, {
            time: formatTime(arrival.scanned_at), site: arrival.site_name || "",
          });
        }
        show("already", T.already_checked_in, name, joinParts([where, unconfirmed]));
        if (arrival.client_id && arrival.site === site) offerUndo(arrival.client_id, body.code, null);
        return;
      }
      case "wrong_site":
        show("warn", T.wrong_site, name, joinParts([registeredFor, unconfirmed]));
        forceRequest = { code: body.code, method: body.method, session: session ? String(session) : "" };
        admitHereButton.hidden = false;
        return;
      case "not_admitted":
        show("bad", T.not_admitted, name, joinParts([person.status_label, unconfirmed]));
        return;
      default:
        show("unknown", T.unknown_code, body.code, unconfirmed);
    }
  }

  /**
   * The check-ins whose answer from the server differs from what was shown
   * offline, one line each; an empty list hides them.
   */
  function showChanges(lines) {
    const box = $("sync-changes");
    $("sync-changes-title").textContent = fmt(T.changes_title, { count: lines.length });
    const list = $("sync-changes-list");
    list.replaceChildren(...lines.map((line) => {
      const item = document.createElement("li");
      item.textContent = line;
      return item;
    }));
    box.hidden = !lines.length;
    if (lines.length) announce([$("sync-changes-title").textContent, ...lines].join(". "));
  }

  /** The name the result panel shows now. */
  function shownName() {
    return $("result-name").textContent;
  }

  undoButton.addEventListener("click", () => {
    if (!undoRequest) return;
    const request = undoRequest;
    undoButton.hidden = true;
    onUndo(request);
  });

  admitHereButton.addEventListener("click", () => {
    if (forceRequest) onAdmitHere(forceRequest);
  });

  // --- people ----------------------------------------------------------------

  function isExpected(person) {
    // The site's list says; a search result is worked out as the server would.
    return person.expected !== undefined ? person.expected
      : person.site === site && person.status === "confirmed";
  }

  /**
   * One person's row, from their state: whether and where they arrived decides
   * the badge, and only someone not arrived yet gets a "Check in" button.
   */
  function personRow(person) {
    const item = document.createElement("li");
    item.className = "person" + (person.checkin ? " arrived" : "") +
      (isExpected(person) ? "" : " unexpected");
    item.dataset.code = person.code;
    const main = document.createElement("div");
    main.className = "person-main";
    const name = document.createElement("strong");
    name.className = "person-name";
    name.textContent = person.name;
    main.appendChild(name);
    const about = joinParts([
      person.organization,
      person.site && person.site !== site ? person.site_name : "",
      person.mode === "online" ? T.registered_online : "",
    ]);
    if (about) {
      const detail = document.createElement("span");
      detail.className = "muted";
      detail.textContent = about;
      main.appendChild(detail);
    }
    item.appendChild(main);

    const state = document.createElement("div");
    state.className = "person-state";
    if (person.status !== "confirmed") {
      state.appendChild(badge(person.status, person.status_label));
    }
    const arrival = person.checkin;
    if (arrival && arrival.site === site) {
      state.appendChild(badge("admitted", fmt(T.arrived_at, { time: formatTime(arrival.scanned_at) })));
    } else if (arrival) {
      state.appendChild(badge("", fmt(T.arrived_elsewhere, {
        time: formatTime(arrival.scanned_at), site: arrival.site_name,
      })));
    } else if (isExpected(person)) {
      state.appendChild(badge("pending", T.not_yet));
    }
    if (!arrival) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button";
      button.dataset.checkIn = "";
      button.textContent = T.check_in;
      state.appendChild(button);
    }
    item.appendChild(state);
    return item;
  }

  // Rows come and go (and some are drawn by the server): listen on the lists.
  function listenForCheckIns(list, fromSearch) {
    list.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-check-in]");
      const item = button && button.closest("li[data-code]");
      if (item) onCheckIn(item.dataset.code, fromSearch);
    });
  }
  listenForCheckIns(searchResults, true);
  listenForCheckIns(rosterList, false);

  /** The search results; null clears them. */
  function showResults(people) {
    searchResults.replaceChildren();
    if (!people) return;
    if (!people.length) searchResults.appendChild(emptyRow(T.no_results));
    people.forEach((person) => searchResults.appendChild(personRow(person)));
  }

  /**
   * The site's list and its counts (see siteCounts in roster.js); `pendingOnly`
   * keeps those expected who have not arrived.
   */
  function renderRoster(people, counts, pendingOnly) {
    $("count-arrived").textContent = counts.arrived;
    $("count-expected").textContent = counts.expected;
    $("count-pending").textContent = counts.notArrived;
    $("count-from-other-sites").textContent = counts.fromOtherSites;
    rosterList.replaceChildren();
    const shown = people.filter((person) => !pendingOnly || (person.expected && !person.checkin));
    if (!shown.length) rosterList.appendChild(emptyRow(T.nobody_here));
    shown.forEach((person) => rosterList.appendChild(personRow(person)));
  }

  function showOffline(count) {
    const status = $("offline-status");
    status.hidden = count === 0;
    status.textContent = fmt(T.offline_waiting, { count });
  }

  // The connection's state: connected, no connection (or calls waiting that could not be
  // sent), sending what waits, all sent.
  const connection = { online: navigator.onLine, waiting: 0, sending: false, sent: false };
  function showConnection(change) {
    const waited = connection.waiting;
    Object.assign(connection, change);
    // "All sent" once what waited is gone, until something waits again.
    if (waited && !connection.waiting) connection.sent = true;
    if (connection.waiting) connection.sent = false;
    let state = "online";
    // Retries while the device knows it is offline are not shown.
    if (connection.sending && connection.online && connection.waiting) state = "sending";
    else if (!connection.online || connection.waiting) state = "offline";
    else if (connection.sent) state = "sent";
    const banner = $("connection-state");
    const text = fmt(T[`state_${state}`], { count: connection.waiting });
    banner.dataset.state = state;
    if (banner.textContent !== text) banner.textContent = text;
  }

  return {
    show, showAnswer, showOfflineVerdict, showChanges, shownName, showResults, renderRoster,
    showOffline, showConnection, formatTime,
  };
}
