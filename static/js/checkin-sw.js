/*
 * Keeps the check-in page usable when the connection drops: the page is
 * fetched from the network when it answers, and from the last good copy when
 * it does not; each copy that comes through is kept. Scripts and styles named
 * by their content come from the kept copy first. API calls are left alone;
 * the page queues those itself.
 */
"use strict";

var CACHE = "hybriddesk-checkin-v1";
var CHECKIN_PAGE = /\/manage\/events\/[^/]+\/checkin\/[^/]+$/;

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var isPage = request.mode === "navigate" && CHECKIN_PAGE.test(url.pathname);
  var isAsset = url.pathname.indexOf("/static/") === 0;
  if (!isPage && !isAsset) return;
  // A file named by its content (?v=<hash>) never changes: the kept copy is the file.
  if (isAsset && url.searchParams.has("v")) {
    event.respondWith(caches.match(request).then(function (cached) {
      return cached || fetchAndKeep(request, false);
    }));
    return;
  }
  event.respondWith(fetchAndKeep(request, isPage));
});

function fetchAndKeep(request, isPage) {
  return (
    fetch(request).then(function (response) {
      // A redirect (to the sign-in page, say) must not replace the good copy.
      if (response.ok && !response.redirected) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(request, { ignoreSearch: isPage }).then(function (cached) {
        return cached || Response.error();
      });
    })
  );
}
