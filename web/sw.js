// Home Inventory's service worker: keeps one build of the app (its page, scripts, styles,
// manifest and icons) so the app opens with no network, and nothing else. The API is never
// cached here: what the app knows offline lives in IndexedDB, under the signed-in person.
//
// This file is a template. The build (`cargo xtask service-worker`, a Trunk post_build
// hook) writes the staged copy with the build's id and the hashed names of its files in
// place of the two placeholders below.

const BUILD = "__BUILD_ID__";
const PRECACHE = __PRECACHE__;

const CACHE_PREFIX = "home-inventory-app-";
const CACHE = CACHE_PREFIX + BUILD;
// How long a page load waits for the network before opening the kept copy of the app.
const NAVIGATION_TIMEOUT_MS = 3000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      // `reload`: straight from the server, never from the browser's HTTP cache.
      cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload" }))),
    ),
  );
  // The first worker takes over at once; a later one waits until the page says the
  // person chose to reload (see "message").
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(CACHE_PREFIX) && name !== CACHE) {
          await caches.delete(name);
        }
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "activate-update") {
    self.skipWaiting();
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // The API (and the files it signs) always goes to the network.
  if (url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate") {
    event.respondWith(navigation(request));
    return;
  }
  event.respondWith(
    caches
      .open(CACHE)
      .then((cache) => cache.match(request, { ignoreSearch: true }))
      .then((kept) => kept || fetch(request)),
  );
});

// A page of the app: the network's answer when it comes in time, else this build's page.
async function navigation(request) {
  const network = fetch(request);
  const timeout = new Promise((resolve) => setTimeout(resolve, NAVIGATION_TIMEOUT_MS));
  try {
    const answer = await Promise.race([network, timeout]);
    if (answer && answer.ok) return answer;
  } catch (_) {
    // Offline: the kept page below.
  }
  const kept = await caches.match("/index.html", { cacheName: CACHE });
  if (kept) return kept;
  return network;
}
