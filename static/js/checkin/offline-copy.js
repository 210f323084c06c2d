/*
 * A copy of the check-in page for reloading without a connection: registers
 * the service worker (static/js/checkin-sw.js, served from /manage/ so that its
 * scope covers the page) and puts the page, its stylesheets and scripts, the
 * static files it loaded since, and the files it names for later (the
 * camera's) into the cache the worker answers from when the network does not. Only what the cache lacks is fetched: the
 * page once, before the worker first controls it, and each file version once.
 */

// The name checkin-sw.js and forget-offline.js use too.
const CACHE = "hybriddesk-checkin-v1";
// The page's files are under static/; the script is static/js/checkin.bundle.js.
const STATIC = new URL("../", import.meta.url).href;

function pageAssets(root) {
  const named = Array.from(
    document.querySelectorAll("link[rel=stylesheet][href], script[src]"),
    (element) => element.href || element.src,
  );
  // Files loaded by script (the camera's, once started) appear in no tag; the page's
  // resource timings list them.
  const loaded = performance.getEntriesByType("resource")
    .map((entry) => entry.name)
    .filter((url) => url.startsWith(STATIC));
  const later = (root.dataset.offlineFiles || "")
    .split(" ").filter(Boolean).map((path) => new URL(path, window.location.href).href);
  // cache.addAll refuses the same URL twice.
  return Array.from(new Set([window.location.pathname, ...named, ...loaded, ...later]));
}

/**
 * Adds to `cache` only the URLs it does not hold. The worker renews the page's copy each
 * time the page comes through it, and a file named by its hash never changes, so each is
 * fetched here once, not on every view.
 */
function addMissing(cache, urls) {
  return Promise.all(urls.map((url) => cache.match(url).then((kept) => (kept ? null : url))))
    .then((missing) => cache.addAll(missing.filter(Boolean)));
}

/** Keeps the offline copy, then marks `root` with data-offline-ready="1". */
export function keepOfflineCopy(root) {
  const serviceWorkerUrl = root.dataset.serviceWorkerUrl;
  if (!("serviceWorker" in navigator) || !window.caches || !serviceWorkerUrl) return;
  navigator.serviceWorker.register(serviceWorkerUrl)
    .then(() => navigator.serviceWorker.ready)
    .then(() => caches.open(CACHE))
    .then((cache) => addMissing(cache, pageAssets(root)))
    .then(() => { root.dataset.offlineReady = "1"; })
    .catch(() => { /* no offline copy: the page still works online */ });
}
