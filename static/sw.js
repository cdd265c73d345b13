// layerbox's service worker: after the first visit the playground works offline.
//
// `scripts/post_build.sh` writes the list of the built files (PRECACHE) and a version made from
// their contents (VERSION) above this text, so that a new build installs a new cache and
// removes the old one. Every file is served from the cache first: trunk names the scripts and
// wasm by their hash, and the page itself is cached under its own name.
/* global PRECACHE, VERSION */
const CACHE = `layerbox-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(['./', ...PRECACHE]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((k) => k.startsWith('layerbox-') && k !== CACHE).map((k) => caches.delete(k)),
      ))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) {
    return;
  }
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      // A navigation (the page, with or without a share link's fragment) is the cached page.
      const key = request.mode === 'navigate' ? './' : request;
      const hit = await cache.match(key, { ignoreSearch: true });
      if (hit) {
        return hit;
      }
      const response = await fetch(request);
      if (response.ok) {
        cache.put(request, response.clone());
      }
      return response;
    }),
  );
});
