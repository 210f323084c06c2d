/*
 * What the check-in page shows: the answer to the last check-in (with its undo
 * and "admit here" buttons), people in the search results and on the site's
 * list, the counts, and how many calls wait offline. Times are shown in the
 * event's time zone.
 */
import { fmt } from "./text.js";

export function $(id) { return document.getElementById(id); }

function joinParts(parts) {
  return parts.filter(Boolean).join(" · ");
}

function badge(kind, text) {
  const span = document.createElement("span");
  span.className = "badge " + kind;
  span.textContent = text;
  return span;
}

/**
 * The page's view. `site`, `timezone` and `language` come from the page's
 * data attributes, `text` is its translated messages; `onUndo(clientId)` and
 * `onAdmitHere({ code, method })` run when those buttons are pressed.
 */
export function createView({ site, timezone, language, text: T, onUndo, onAdmitHere }) {
  const panel = $("result");
  const undoButton = $("undo");
  const admitHereButton = $("admit-here");
  const searchResults = $("search-results");
  const rosterList = $("roster");
  let undoClientId = null;
  let forceRequest = null;

  function formatTime(iso) {
    if (!iso) return "";
    const moment = new Date(iso);
    const options = { timeZone: timezone, hour: "2-digit", minute: "2-digit" };
    try {
      const day = new Intl.DateTimeFormat("en-CA", { timeZone: timezone }).format(moment);
      const today = new Intl.DateTimeFormat("en-CA", { timeZone: timezone }).format(new Date());
      if (day !== today) {
        options.day = "numeric";
        options.month = "short";
      }
      return new Intl.DateTimeFormat(language, options).format(moment);
    } catch {
      return moment.toLocaleString();
    }
  }

  // --- the result panel ------------------------------------------------------

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
      try { navigator.vibrate(kind === "ok" ? 60 : [60, 60, 60]); } catch { /* ignore */ }
    }
  }

  function offerUndo(clientId) {
    undoClientId = clientId;
    undoButton.hidden = false;
  }

  /** The answer to a check-in, admitted or refused (`body` is what was sent). */
  function showAnswer(data, body, successTitle) {
    const registration = data.registration || {};
    if (data.status === "ok" && data.checkin) {
      const checkin = data.checkin;
      let detail = joinParts([registration.organization, checkin.site_name]);
      if (checkin.forced) detail = joinParts([detail, T.forced]);
      show("ok", successTitle || T.admitted, registration.name, detail);
      offerUndo(checkin.client_id);
      return;
    }
    switch (data.reason) {
      case "already_checked_in": {
        const previous = data.previous || {};
        show("already", T.already_checked_in, registration.name, fmt(T.checked_in_at, {
          time: formatTime(previous.scanned_at),
          site: previous.site_name || "",
          staff: previous.staff || "",
        }));
        // The earlier admission may be the mistake: let it be undone from here.
        if (previous.client_id && previous.site === site) offerUndo(previous.client_id);
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

  /** The name the result panel shows now. */
  function shownName() {
    return $("result-name").textContent;
  }

  undoButton.addEventListener("click", () => {
    if (!undoClientId) return;
    const clientId = undoClientId;
    undoButton.hidden = true;
    onUndo(clientId);
  });

  admitHereButton.addEventListener("click", () => {
    if (forceRequest) onAdmitHere(forceRequest);
  });

  // --- people ----------------------------------------------------------------

  function personItem(person, onCheckIn) {
    const item = document.createElement("li");
    item.className = "person" + (person.checkin ? " arrived" : "");
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
    if (person.checkin) {
      state.appendChild(badge(person.checkin.site === site ? "admitted" : "", person.checkin.site === site
        ? fmt(T.arrived_at, { time: formatTime(person.checkin.scanned_at) })
        : fmt(T.arrived_elsewhere, {
          time: formatTime(person.checkin.scanned_at), site: person.checkin.site_name,
        })));
    } else if (person.expected !== undefined ? person.expected
      : person.site === site && person.status === "confirmed") {
      state.appendChild(badge("pending", T.not_yet));
    }
    if (onCheckIn) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button";
      button.textContent = T.check_in;
      button.addEventListener("click", () => onCheckIn(person));
      state.appendChild(button);
    }
    item.appendChild(state);
    return item;
  }

  /** Search results, each with a button that calls `onCheckIn(person)`. */
  function showResults(people, onCheckIn) {
    searchResults.replaceChildren();
    if (!people.length) {
      const empty = document.createElement("li");
      empty.className = "muted empty";
      empty.textContent = T.no_results;
      searchResults.appendChild(empty);
      return;
    }
    people.forEach((person) => searchResults.appendChild(personItem(person, onCheckIn)));
  }

  function clearResults() {
    searchResults.replaceChildren();
  }

  /** The site's list and its counts; `pendingOnly` keeps those expected who have not arrived. */
  function renderRoster(roster, pendingOnly) {
    if (!roster) return;
    $("count-arrived").textContent = roster.counts.arrived;
    $("count-expected").textContent = roster.counts.expected;
    $("count-pending").textContent = roster.counts.not_arrived;
    const people = roster.registrations.filter((person) =>
      !pendingOnly || (person.expected && !person.checkin));
    rosterList.replaceChildren();
    people.forEach((person) => rosterList.appendChild(personItem(person, null)));
  }

  function showOffline(count) {
    const status = $("offline-status");
    status.hidden = count === 0;
    status.textContent = fmt(T.offline_waiting, { count });
  }

  return {
    show, showAnswer, shownName, showResults, clearResults, renderRoster, showOffline,
  };
}
