// App-level timings against the built app (dist/, served under APP_PATH), coded against the
// app's DOM contract:
//   - <input type="file" id="file-input" multiple> takes recordings;
//   - once the analysis worker has loaded the model: document.documentElement.dataset.ready =
//     "true" and performance.mark('hb:ready');
//   - each selected file gets a [data-testid="job"] row with data-name (the file name) and
//     data-status (queued|analysing|done|error); a done row has data-ms, the app's own
//     file-selected → result-shown time, and data-worker-ms, the analysis worker's part of it;
//   - document.documentElement.dataset.history is "open" once the history is (or "opening",
//     "unavailable", "off"); performance.measure 'hb:history-load' times opening it (reading
//     every summary) and 'hb:history-migrate' moving an earlier build's localStorage history
//     (localStorage 'heartbeat.history', the export's JSON document) into it; a done row gets
//     data-history ("saved" | "not-saved") and, saved, data-save-ms, the write's time;
//   - the history is IndexedDB 'heartbeat', object stores 'summaries' and 'entries' keyed by entry
//     id, holding the JSON text of each entry's summary and of the entry as exported; the History
//     page (nav a[href="#/history"]) lists [data-testid="history-entry"] rows, each linking to the
//     entry, which opens as [data-testid="result"].
// Measures the first load's transfer size (gzip -9 of every file fetched), time to interactive
// (the hb:ready mark), file → result on a 30 s recording, and the history at 10,000 results:
// saving one more, opening it, listing it, opening an entry, moving a localStorage one in. Reports, never asserts, timings; a
// broken contract is an error with a message saying which part.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_PATH, DATA, DIST, log, sizes, sleep, stats } from './lib.mjs';

/** Fresh-context page loads for time to interactive. */
const LOADS = 5;
/** Recordings selected one after another for file → result. */
const FILES = 7;
const READY_TIMEOUT_MS = 30_000;
const RESULT_TIMEOUT_MS = 30_000;
/** A first load is over once the server has had no request for this long after data-ready. */
const QUIET_MS = 1_000;
const TARGET_MS = 100;
const TARGET_BYTES = 2_000_000;
const RECORDING_SECONDS = 30;
/** Results in the history benchmark's store: a busy clinic's years. */
const HISTORY_ENTRIES = 10_000;
/** Saves, page openings and entry openings timed at each history size. */
const HISTORY_RUNS = 7;
/** Reloads timed opening the full history. */
const HISTORY_LOADS = 5;

/** The app broke its DOM contract or failed an analysis; the message says which, no stack needed. */
class AppError extends Error {}

export const MOUNTS = { [APP_PATH]: DIST };

/** One fresh browser context (empty cache) loading the app; waits for data-ready. */
async function load(browser, server, appUrl) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  const urls = new Set();
  page.on('console', (msg) => msg.type() === 'error' && problems.push(`console.error: ${msg.text()}`));
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  context.on('request', (req) => urls.add(req.url()));
  const from = server.served.length;
  await page.goto(appUrl, { waitUntil: 'load', timeout: READY_TIMEOUT_MS });
  let ready = true;
  try {
    await page.waitForFunction(() => document.documentElement.dataset.ready === 'true', null, {
      timeout: READY_TIMEOUT_MS,
    });
  } catch {
    ready = false;
  }
  const readyMs = ready
    ? await page.evaluate(() => performance.getEntriesByName('hb:ready')[0]?.startTime ?? null)
    : null;
  return { context, page, problems, urls, from, ready, readyMs };
}

/** Waits until the server has been idle for QUIET_MS (at most 15 s more). */
async function quiet(server) {
  const until = performance.now() + 15_000;
  for (;;) {
    const last = server.served.at(-1)?.at ?? 0;
    const idle = performance.now() - last;
    if (idle >= QUIET_MS || performance.now() > until) return;
    await sleep(QUIET_MS - idle);
  }
}

function notReady(loaded) {
  const why = loaded.problems.length ? ` Page errors: ${loaded.problems.slice(0, 5).join(' | ')}` : '';
  return new AppError(
    `dist/ app never set document.documentElement.dataset.ready = "true" within ${READY_TIMEOUT_MS / 1000} s ` +
      `(the contract: set it and performance.mark('hb:ready') once the worker has loaded the model).${why}`,
  );
}

/** Every dist/ file the first load fetched, with gzip -9 sizes, and anything else it asked for. */
function transfer(server, loaded, origin) {
  const requests = server.served.slice(loaded.from);
  const counts = new Map();
  for (const r of requests) if (r.status === 200 && r.file.startsWith(DIST)) counts.set(r.file, (counts.get(r.file) ?? 0) + 1);
  const files = [...counts]
    .map(([file, n]) => ({ file: file.slice(DIST.length + 1), ...sizes(file), requests: n }))
    .sort((a, b) => b.gzip9_bytes - a.gzip9_bytes);
  const total = files.reduce((sum, f) => sum + f.gzip9_bytes, 0);
  // Requests that got no dist/ file: 404s, paths outside the app, other origins (which fail
  // here, there being no network, but would cost a clinic a download).
  const other = [
    ...requests.filter((r) => r.status !== 200 || !r.file.startsWith(DIST)).map((r) => `${r.status} ${r.path}`),
    ...[...loaded.urls].filter((u) => !u.startsWith(origin) && !/^(data|blob):/.test(u)),
  ];
  return {
    total_gzip9_bytes: total,
    total_bytes: files.reduce((sum, f) => sum + f.bytes, 0),
    target_bytes: TARGET_BYTES,
    within_target: total <= TARGET_BYTES,
    complete: loaded.ready,
    files,
    ...(other.length ? { other_requests: [...new Set(other)] } : {}),
  };
}

/** The first recording of training-a lasting ≥ 30 s, cut to 30 s; else a synthetic one. */
function recording(dir) {
  const folder = join(DATA, 'training-a');
  if (existsSync(folder)) {
    for (const name of readdirSync(folder).filter((f) => f.endsWith('.flac')).sort().slice(0, 50)) {
      const flac = join(folder, name);
      try {
        if (Number(execFileSync('soxi', ['-D', flac], { encoding: 'utf8' })) < RECORDING_SECONDS) continue;
        const wav = join(dir, 'cut.wav');
        execFileSync('sox', [flac, '-b', '16', wav, 'trim', '0', `${RECORDING_SECONDS}`]);
        return {
          bytes: readFileSync(wav),
          description: `PhysioNet 2016 training-a/${name}, first ${RECORDING_SECONDS} s, 2000 Hz mono 16-bit WAV`,
        };
      } catch (err) {
        log(`cannot cut ${flac} (${err.message.split('\n')[0]}); using a synthetic recording`);
        break;
      }
    }
  }
  return { bytes: syntheticWav(), description: `synthetic ${RECORDING_SECONDS} s heartbeat, 2000 Hz mono 16-bit WAV` };
}

/** 30 s at 2 kHz, 72 bpm: S1 and S2 as short 60 Hz / 90 Hz bursts over faint noise. */
function syntheticWav() {
  const rate = 2000;
  const n = rate * RECORDING_SECONDS;
  const pcm = Buffer.alloc(44 + 2 * n);
  let seed = 12345;
  const beat = 60 / 72;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const phase = t % beat;
    let x = 0;
    for (const [at, f, a] of [[0, 60, 0.5], [0.3, 90, 0.3]]) {
      const u = (phase - at) / 0.06;
      if (u >= 0 && u < 1) x += a * Math.sin(Math.PI * u) ** 2 * Math.sin(2 * Math.PI * f * (phase - at));
    }
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    x += 0.01 * (seed / 0x7fffffff - 0.5);
    pcm.writeInt16LE(Math.round(Math.max(-1, Math.min(1, x)) * 32767), 44 + 2 * i);
  }
  pcm.write('RIFF', 0);
  pcm.writeUInt32LE(36 + 2 * n, 4);
  pcm.write('WAVEfmt ', 8);
  pcm.writeUInt32LE(16, 16);
  pcm.writeUInt16LE(1, 20); // PCM
  pcm.writeUInt16LE(1, 22); // mono
  pcm.writeUInt32LE(rate, 24);
  pcm.writeUInt32LE(rate * 2, 28);
  pcm.writeUInt16LE(2, 32);
  pcm.writeUInt16LE(16, 34);
  pcm.write('data', 36);
  pcm.writeUInt32LE(2 * n, 40);
  return pcm;
}

/** The number in a done row's `attribute` (its `value`, undefined when absent), or an error. */
function numeric(name, attribute, value) {
  const n = Number(value);
  if (value === undefined || !Number.isFinite(n)) {
    throw new AppError(`dist/ app's done row for ${name} has no numeric ${attribute} (got ${JSON.stringify(value)})`);
  }
  return n;
}

/** Selects the recording FILES times under distinct names; returns each row's data-ms and
 * data-worker-ms. */
async function fileToResult(page, wav) {
  if ((await page.locator('input#file-input[type="file"]').count()) !== 1) {
    throw new AppError('dist/ app has no <input type="file" id="file-input">');
  }
  const appMs = [];
  const workerMs = [];
  const observedMs = [];
  for (let i = 1; i <= FILES; i++) {
    const name = `bench-30s-${i}.wav`;
    const selector = `[data-testid="job"][data-name="${name}"]`;
    const start = performance.now();
    await page.setInputFiles('#file-input', { name, mimeType: 'audio/wav', buffer: wav });
    try {
      await page.waitForFunction(
        // The app shows a result, then after the next paint records how long that took:
        // a done row counts once it carries data-ms.
        (sel) => {
          const row = document.querySelector(sel)?.dataset;
          return row?.status === 'error' || (row?.status === 'done' && row.ms !== undefined);
        },
        selector,
        { timeout: RESULT_TIMEOUT_MS },
      );
    } catch {
      const status = await page.evaluate((sel) => document.querySelector(sel)?.dataset.status ?? null, selector);
      throw new AppError(
        status === null
          ? `dist/ app showed no ${selector} row within ${RESULT_TIMEOUT_MS / 1000} s of selecting ${name}`
          : `dist/ app's row for ${name} stayed data-status="${status}" for ${RESULT_TIMEOUT_MS / 1000} s`,
      );
    }
    observedMs.push(performance.now() - start);
    const row = await page.evaluate((sel) => {
      const el = document.querySelector(sel);
      return {
        status: el.dataset.status,
        ms: el.dataset.ms,
        workerMs: el.dataset.workerMs,
        text: el.textContent.trim().slice(0, 200),
      };
    }, selector);
    if (row.status === 'error') throw new AppError(`dist/ app could not analyse ${name}: data-status="error" (${row.text})`);
    appMs.push(numeric(name, 'data-ms', row.ms));
    workerMs.push(numeric(name, 'data-worker-ms', row.workerMs));
  }
  return { appMs, workerMs, observedMs };
}

/** Returns { section, error }; the section keeps whatever was measured before an error. */
export async function benchApp(browser, server) {
  const section = { dist: DIST, served_at: APP_PATH };
  if (!existsSync(join(DIST, 'index.html'))) {
    return { section, error: `${DIST}/index.html is missing: run \`trunk build --release\` or set HEARTBEAT_DIST` };
  }
  section.dist_wasm = readdirSync(DIST)
    .filter((f) => f.endsWith('.wasm'))
    .map((f) => ({ file: f, ...sizes(join(DIST, f)) }));
  const appUrl = `${server.origin}${APP_PATH}`;
  const dir = mkdtempSync(join(tmpdir(), 'heartbeat-bench-'));
  try {
    // (c) + first (a): a fresh context, whose every fetch until the network is quiet counts.
    log(`app: first load of ${appUrl} (fresh context), transfer sizes`);
    let loaded = await load(browser, server, appUrl);
    await quiet(server);
    section.first_load_transfer = transfer(server, loaded, server.origin);
    await loaded.context.close();
    if (!loaded.ready) throw notReady(loaded);

    // (a) time to interactive: the app's hb:ready mark, one fresh context (empty cache) per load.
    const readyMs = [];
    for (let i = 0; ; i++) {
      if (loaded.readyMs === null) {
        throw new AppError(
          "dist/ app set data-ready but performance.getEntriesByName('hb:ready') is empty: call performance.mark('hb:ready')",
        );
      }
      readyMs.push(loaded.readyMs);
      if (i + 1 === LOADS) break;
      loaded = await load(browser, server, appUrl);
      await loaded.context.close();
      if (!loaded.ready) throw notReady(loaded);
    }
    section.time_to_interactive = { ...stats(readyMs), fresh_context_each: true, mark: 'hb:ready' };
    log(`app: time to interactive ${section.time_to_interactive.median_ms} ms (median of ${LOADS})`);

    // (b) file selected → result shown, as the app measures it (data-ms).
    const wav = recording(dir);
    log(`app: ${FILES} × ${wav.description}`);
    loaded = await load(browser, server, appUrl);
    try {
      if (!loaded.ready) throw notReady(loaded);
      const { appMs, workerMs, observedMs } = await fileToResult(loaded.page, wav.bytes);
      section.file_to_result_30s = {
        ...stats(appMs),
        target_ms: TARGET_MS,
        within_target: stats(appMs).median_ms <= TARGET_MS,
        runs_ms: appMs.map((ms) => Math.round(ms * 1000) / 1000),
        recording: wav.description,
        wav_bytes: wav.bytes.length,
        // The analysis worker's part (decode → report, as the worker timed it); the rest is the
        // page: reading the file, messages both ways and drawing the result.
        worker: stats(workerMs),
        // The driver's own view (setInputFiles → done seen, polled per frame): a sanity check on
        // data-ms, including Playwright's overhead.
        driver_observed: stats(observedMs),
      };
      log(`app: file → result ${section.file_to_result_30s.median_ms} ms (median of ${FILES})`);
    } finally {
      await loaded.context.close();
    }

    // (d) the history: saving, opening, listing at HISTORY_ENTRIES results; migrating.
    section.history = await benchHistory(browser, appUrl, wav.bytes);
    return { section, error: null };
  } catch (err) {
    return { section, error: err instanceof AppError ? err.message : `app benchmark failed: ${err.stack ?? err}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A fresh context on the app, its model ready and its history open. */
async function openWithHistory(browser, appUrl) {
  const context = await browser.newContext();
  // When the first history row appears, from the page's start (set before any app script runs).
  await context.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.querySelector('[data-testid="history-entry"]')) {
        window.__firstHistoryRowMs = performance.now();
        observer.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
  });
  const page = await context.newPage();
  await page.goto(appUrl);
  await historyOpen(page);
  return { context, page };
}

/** Waits for the model and the history; an app that cannot keep one breaks the contract. */
async function historyOpen(page) {
  await page.waitForFunction(() => document.documentElement.dataset.ready === 'true', null, { timeout: READY_TIMEOUT_MS });
  await page.waitForFunction(() => ['open', 'unavailable'].includes(document.documentElement.dataset.history), null, {
    timeout: READY_TIMEOUT_MS,
  });
  const state = await page.evaluate(() => document.documentElement.dataset.history);
  if (state !== 'open') throw new AppError(`dist/ app's history is "${state}", not "open"`);
}

/** The duration of the app's performance measure `name` on this page load, or null. */
const measured = (page, name) => page.evaluate((n) => performance.getEntriesByName(n)[0]?.duration ?? null, name);

/** Analyses `wav` HISTORY_RUNS times under new names; returns each save's data-save-ms. */
async function saves(page, wav, prefix) {
  const times = [];
  for (let i = 1; i <= HISTORY_RUNS; i++) {
    const name = `${prefix}-${i}.wav`;
    const selector = `[data-testid="job"][data-name="${name}"]`;
    await page.setInputFiles('#file-input', { name, mimeType: 'audio/wav', buffer: wav });
    try {
      await page.waitForFunction((sel) => document.querySelector(sel)?.dataset.history, selector, { timeout: RESULT_TIMEOUT_MS });
    } catch {
      throw new AppError(`dist/ app's row for ${name} got no data-history within ${RESULT_TIMEOUT_MS / 1000} s of selecting it`);
    }
    const row = await page.evaluate((sel) => ({ ...document.querySelector(sel).dataset }), selector);
    if (row.history !== 'saved') throw new AppError(`dist/ app did not save ${name} in its history (data-history="${row.history}")`);
    times.push(numeric(name, 'data-save-ms', row.saveMs));
  }
  return times;
}

/**
 * Fills the history with `n` synthetic results: copies of a stored one under new ids, files and
 * times (one every six minutes back from now), 500 to a transaction. Runs in the page.
 */
async function seedHistory(n) {
  const request = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
  const db = await request(indexedDB.open('heartbeat'));
  const first = (store) => request(db.transaction(store).objectStore(store).getAll(null, 1)).then((all) => all[0]);
  const summaryText = await first('summaries');
  const entryText = await first('entries');
  const summary = JSON.parse(summaryText);
  const entry = JSON.parse(entryText);
  const now = Date.now();
  for (let from = 0; from < n; from += 500) {
    const tx = db.transaction(['summaries', 'entries'], 'readwrite');
    for (let i = from; i < Math.min(n, from + 500); i++) {
      const fields = { id: `seed-${i}`, file: `synthetic-${i}.wav`, analysed_at_ms: now - (i + 1) * 360_000 };
      tx.objectStore('summaries').put(JSON.stringify({ ...summary, ...fields }), fields.id);
      tx.objectStore('entries').put(JSON.stringify({ ...entry, ...fields }), fields.id);
    }
    await new Promise((ok, fail) => { tx.oncomplete = ok; tx.onabort = () => fail(tx.error); });
  }
  db.close();
  const { usage } = await navigator.storage.estimate();
  return { entryText, summaryBytes: summaryText.length, entryBytes: entryText.length, usage };
}

/** Clicks `link` (a selector) and times until `target` (a selector) is in the DOM, and painted. */
function timeNavigation(page, link, target) {
  return page.evaluate(
    async ({ link, target }) => {
      const start = performance.now();
      const inDom = new Promise((ok) => {
        const seen = () => document.querySelector(target) && (ok(performance.now()), true);
        if (seen()) return;
        const observer = new MutationObserver(() => seen() && observer.disconnect());
        observer.observe(document.body, { childList: true, subtree: true });
      });
      document.querySelector(link).click();
      const dom = await inDom;
      await new Promise((ok) => requestAnimationFrame(() => setTimeout(ok)));
      return { dom: dom - start, painted: performance.now() - start };
    },
    { link, target },
  );
}

/** Goes to the Analyse page and waits for it. */
async function toAnalyse(page) {
  await page.evaluate(() => document.querySelector('nav a[href="#/"]').click());
  await page.locator('#file-input').waitFor({ state: 'attached' });
}

/** The history section: see the contract at the top. */
async function benchHistory(browser, appUrl, wav) {
  const out = { entries: HISTORY_ENTRIES };
  let { context, page } = await openWithHistory(browser, appUrl);
  try {
    log(`app: history: ${HISTORY_RUNS} saves into an empty history`);
    out.save_ms_empty = { ...stats(await saves(page, wav, 'history-empty')), entries_before: `0-${HISTORY_RUNS - 1}` };

    const seedStart = performance.now();
    const seeded = await page.evaluate(seedHistory, HISTORY_ENTRIES);
    out.seed_ms = Math.round(performance.now() - seedStart);
    out.summary_bytes = seeded.summaryBytes;
    out.entry_bytes = seeded.entryBytes;
    out.storage_usage_bytes = seeded.usage;
    const total = HISTORY_ENTRIES + HISTORY_RUNS;
    log(`app: history: seeded ${HISTORY_ENTRIES} results in ${out.seed_ms} ms; ${total} in all`);

    // Opening the app on its History page: reading every summary, and the first rows shown.
    const loads = [];
    const listed = [];
    for (let i = 0; i < HISTORY_LOADS; i++) {
      await page.goto('about:blank');
      await page.goto(`${appUrl}#/history`);
      await historyOpen(page);
      await page.locator('[data-testid="history-entry"]').first().waitFor();
      loads.push(await measured(page, 'hb:history-load'));
      listed.push(await page.evaluate(() => window.__firstHistoryRowMs));
    }
    if (loads.includes(null)) throw new AppError("dist/ app made no performance.measure('hb:history-load')");
    out.load_ms = stats(loads);
    out.listed_after_start_ms = stats(listed);
    const counted = await page.locator('main').textContent();
    if (!counted.includes(`${total} analyses`)) throw new AppError(`dist/ app's History page does not say it holds ${total} analyses`);

    const pageMs = [];
    const pageDomMs = [];
    const entryMs = [];
    for (let i = 0; i < HISTORY_RUNS; i++) {
      await toAnalyse(page);
      const opened = await timeNavigation(page, 'nav a[href="#/history"]', '[data-testid="history-entry"]');
      pageMs.push(opened.painted);
      pageDomMs.push(opened.dom);
      const entry = await timeNavigation(page, `[data-testid="history-entry"]:nth-child(${i + 1}) a`, '[data-testid="result"]');
      entryMs.push(entry.painted);
    }
    out.open_page_ms = { ...stats(pageMs), dom: stats(pageDomMs) };
    out.open_entry_ms = stats(entryMs);
    log(`app: history: page opens in ${out.open_page_ms.median_ms} ms, an entry in ${out.open_entry_ms.median_ms} ms`);

    await toAnalyse(page);
    out.save_ms_full = { ...stats(await saves(page, wav, 'history-full')), entries_before: `${total}-${total + HISTORY_RUNS - 1}` };
    log(`app: history: save ${out.save_ms_empty.median_ms} ms empty, ${out.save_ms_full.median_ms} ms at ${total}`);
    await context.close();

    // An earlier build's localStorage history, as large as localStorage takes, moved in.
    ({ context, page } = await openWithHistory(browser, appUrl));
    await page.goto(`${appUrl}no-such-page`);
    const moved = await page.evaluate((entryText) => {
      const entry = JSON.parse(entryText);
      for (let n = 400; n > 0; n = Math.floor(n * 0.9)) {
        const entries = Array.from({ length: n }, (_, i) => JSON.stringify({ ...entry, id: `old-${i}`, analysed_at_ms: 1.7e12 + i }));
        const doc = `{"format":"heartbeat-history","version":1,"entries":[${entries.join(',')}]}`;
        try {
          localStorage.setItem('heartbeat.history', doc);
          return { entries: n, bytes: doc.length };
        } catch {
          // Too large for localStorage: try fewer.
        }
      }
      return { entries: 0, bytes: 0 };
    }, seeded.entryText);
    await page.goto(appUrl);
    await historyOpen(page);
    const migrateMs = await measured(page, 'hb:history-migrate');
    const left = await page.evaluate(() => localStorage.getItem('heartbeat.history'));
    if (migrateMs === null || left !== null) throw new AppError("dist/ app did not move localStorage's 'heartbeat.history' into its history");
    out.migration = { ...moved, ms: Math.round(migrateMs * 1000) / 1000, load_ms: await measured(page, 'hb:history-load') };
    log(`app: history: moved ${moved.entries} localStorage results (${moved.bytes} bytes) in ${out.migration.ms} ms`);
    return out;
  } finally {
    await context.close();
  }
}
