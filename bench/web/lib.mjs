// Shared pieces of the browser benchmark: a static server on 127.0.0.1 that logs what it
// serves, headless Debian Chromium, medians and gzip sizes. Mirrors tests/e2e/harness.mjs (same
// browser flags, same app sub-path) without importing it, so the e2e suite can change freely.
import { createServer } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The built app; HEARTBEAT_DIST points elsewhere (e.g. another checkout's dist/). */
export const DIST = resolve(process.env.HEARTBEAT_DIST ?? join(ROOT, 'dist'));
/** The data set next to the clone; HEARTBEAT_DATA overrides (as in the e2e tests). */
export const DATA = process.env.HEARTBEAT_DATA ?? resolve(ROOT, '../shared/data/physionet2016');
/** The sub-path the app is served under, as in the e2e tests: its URLs must be relative. */
export const APP_PATH = '/clinic/heartbeat/';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.onnx': 'application/octet-stream',
};

/** Logs to stderr: stdout carries the JSON only. */
export const log = (...args) => console.error('[bench]', ...args);

/**
 * Serves each `mounts` entry (URL prefix ending in '/' → folder) on a free port of 127.0.0.1.
 * Every request is appended to `served` as { path, file, status, at }, `file` being the
 * absolute path it was answered from (null when not found), so a caller can tell which files a
 * page load fetched, from the page, its workers and any service worker alike.
 */
export async function serve(mounts) {
  const served = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const answer = (status, file, body, type) => {
      served.push({ path, file, status, at: performance.now() });
      res.writeHead(status, { 'content-type': type ?? 'text/plain', 'cache-control': 'no-cache' });
      res.end(body);
    };
    const prefix = Object.keys(mounts).find((p) => path.startsWith(p));
    if (!prefix) return answer(404, null, 'not found');
    const dir = mounts[prefix];
    let file = normalize(join(dir, path.slice(prefix.length)));
    if (file !== dir && !file.startsWith(dir + sep)) return answer(403, null, 'forbidden');
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) return answer(404, null, 'not found');
    answer(200, file, readFileSync(file), TYPES[extname(file)] ?? 'application/octet-stream');
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    served,
    close: () => new Promise((ok) => server.close(ok)),
  };
}

/** Debian's Chromium, headless; never a downloaded browser. Same flags as the e2e tests. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

const round = (ms) => Math.round(ms * 1000) / 1000;

/** { median_ms, min_ms, runs } of timings in ms: the shape bench.rs prints too. */
export function stats(times) {
  const sorted = [...times].sort((a, b) => a - b);
  return { median_ms: round(sorted[sorted.length >> 1]), min_ms: round(sorted[0]), runs: sorted.length };
}

/** Raw and gzip -9 sizes of a file. */
export function sizes(file) {
  const bytes = readFileSync(file);
  return { bytes: bytes.length, gzip9_bytes: gzipSync(bytes, { level: 9 }).length };
}

/** Resolves after `ms`. */
export const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
