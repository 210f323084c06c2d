/*
 * Sync by file, for a day without a connection: "Save the queue to a file"
 * downloads the check-ins waiting on this device as a small JSON file, which
 * a computer that is online uploads on the site's "Upload a queue file" page.
 * Each scan keeps the client_id it was given here, so the upload, a second
 * upload and this device's own sync later record every scan once.
 *
 * The scans are read through queue.js; saving leaves them in the queue. Walk-ins
 * and undos are not scans: they wait for this device's connection.
 */
import { queuedScans } from "./queue.js";
import { fmt } from "./text.js";

/** The version of the file's format; the upload page reads this one. */
export const QUEUE_FILE_VERSION = 1;

/** The fields of a check-in's body (POST /api/v1/events/<slug>/checkins) the file keeps. */
const SCAN_FIELDS = ["code", "site", "client_id", "scanned_at", "force", "method", "session",
  "device"];

/** A queued check-in's body, with only the fields the upload reads. */
function scanOf(body) {
  const scan = {};
  for (const name of SCAN_FIELDS) {
    if (body[name] !== undefined) scan[name] = body[name];
  }
  return scan;
}

function localDate(now) {
  const pad = (n) => String(n).padStart(2, "0");
  return now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate());
}

/** The file's name and text for the scans of `event` at `site`. */
export function queueFile(event, site, scans, now = new Date()) {
  const contents = {
    version: QUEUE_FILE_VERSION, event, site, saved_at: now.toISOString(), scans,
  };
  return {
    name: "hybriddesk-queue-" + event + "-" + site + "-" + localDate(now) + ".json",
    text: JSON.stringify(contents, null, 1),
  };
}

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Wires the "Save the queue to a file" button of the check-in page `root`. */
function setUpQueueFile(root) {
  const panel = document.getElementById("queue-file");
  const button = document.getElementById("queue-file-save");
  const status = document.getElementById("queue-file-status");
  if (!panel || !button) return;
  const { event, site } = root.dataset;

  async function waitingScans() {
    return (await queuedScans()).filter((body) => body.site === site).map(scanOf);
  }

  // The button shows while scans wait: each change of the queue redraws the offline status.
  async function update() {
    button.hidden = (await waitingScans()).length === 0;
  }

  button.addEventListener("click", async () => {
    const scans = await waitingScans();
    if (!scans.length) {
      status.textContent = panel.dataset.nothing;
      button.hidden = true;
      return;
    }
    const file = queueFile(event, site, scans);
    download(file.name, file.text);
    status.textContent = fmt(panel.dataset.saved, { count: scans.length, file: file.name });
  });

  const offlineStatus = document.getElementById("offline-status");
  if (offlineStatus) {
    new MutationObserver(update).observe(offlineStatus, {
      attributes: true, childList: true, characterData: true, subtree: true,
    });
  }
  window.addEventListener("online", update);
  window.addEventListener("offline", update);
  update();
}

const root = document.getElementById("checkin");
if (root) setUpQueueFile(root);
