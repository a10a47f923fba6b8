// HeartBeat's service worker: the whole app, cached per release, so it installs and works with
// no network. scripts/pwa.mjs (Trunk's post_build hook) writes dist/sw.js as this template preceded
// by the release's VERSION and PRECACHE list (every file of dist/, by relative URL).
//
// A release replaces the previous one whole: each has its own cache, the page and every asset
// come from the same one, and a new release waits until the page says "reload" (never swapped
// under the user); older caches are deleted once it takes over.
/* global VERSION, PRECACHE */
'use strict';

const CACHE = `heartbeat-${VERSION}`;
/** Files the deployer may change without a release: fetched fresh, cached for offline use. */
const LIVE = new Set(['embed.json']);

const scoped = (path) => new URL(path, self.registration.scope).href;

// 'no-cache' revalidates with the server: never a stale file from the HTTP cache, yet a file
// the page has just downloaded costs only a 304 when the server sends ETag or Last-Modified
// (most static servers do), so a first visit does not download the app twice.
self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE.map((path) => new Request(scoped(path), { cache: 'no-cache' })))),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('heartbeat-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// The page asks a waiting release to take over once the user chose to reload.
self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'activate') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  const scope = new URL(self.registration.scope);
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return;
  const path = url.pathname.slice(scope.pathname.length);
  if (LIVE.has(path)) {
    event.respondWith(networkFirst(request));
  } else if (request.mode === 'navigate' || path === '' || path === 'index.html') {
    // Any address of the app (`./`, `./?embed=1`, `./index.html#/history`) is the one page.
    event.respondWith(fromCache(scoped('index.html'), request));
  } else {
    event.respondWith(fromCache(url.origin + url.pathname, request));
  }
});

async function fromCache(key, request) {
  const cache = await caches.open(CACHE);
  return (await cache.match(key)) ?? fetch(request);
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request.url.split('?')[0], response.clone());
    else if (response.status === 404) await cache.delete(request.url.split('?')[0]);
    return response;
  } catch (error) {
    const cached = await cache.match(request.url.split('?')[0]);
    if (cached) return cached;
    throw error;
  }
}
