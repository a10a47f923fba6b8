// End-to-end: the release build in dist/, served from a sub-path, driven in headless Chromium.
// Run with `node --test tests/e2e/` after `trunk build --release` (scripts/test.sh does both).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  cliClassify,
  corruptWav,
  mp3Of,
  launchChromium,
  modelIsTrained,
  openPage,
  physionetFlac,
  physionetWav,
  scratch,
  serveDist,
  toneWav,
  DATA,
} from './harness.mjs';

// The first analysis waits for the model to load; generous for a loaded CI machine.
const ANALYSIS_TIMEOUT_MS = 60_000;
// e00002: 24 s, normal by PhysioNet; a0003: 30.7 s, abnormal. Both far from the threshold, so
// the browser's own resampling of FLAC cannot move them across it.
const NORMAL = 'e00002';
const ABNORMAL = 'a0003';

let server;
let browser;
let dir;
let data; // { normal: {wav, flac}, abnormal: {wav, flac} } or null without the data set

before(async () => {
  server = await serveDist();
  browser = await launchChromium();
  dir = scratch();
  const normalWav = physionetWav(NORMAL, dir);
  const abnormalWav = physionetWav(ABNORMAL, dir);
  if (normalWav && abnormalWav) {
    data = {
      normal: { wav: normalWav, flac: physionetFlac(NORMAL), mp3: mp3Of(normalWav, dir) },
      abnormal: { wav: abnormalWav, flac: physionetFlac(ABNORMAL), mp3: mp3Of(abnormalWav, dir) },
    };
  } else if (process.env.CI) {
    throw new Error(`CI needs the PhysioNet data at ${DATA}`);
  }
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Opens the app (in a fresh context unless one is given) and waits until it can analyse. */
async function openApp(url = server.appUrl) {
  const session = await openPage(browser);
  await session.page.goto(url);
  await session.page.locator('html[data-ready="true"]').waitFor({ timeout: ANALYSIS_TIMEOUT_MS });
  return session;
}

/** Asserts the page logged no errors and contacted no other origin. */
function assertClean({ problems, requests }) {
  assert.deepEqual(problems, [], 'console errors or uncaught exceptions');
  const foreign = requests.filter(
    (u) => !u.startsWith(server.origin) && !u.startsWith('data:') && !u.startsWith('blob:'),
  );
  assert.deepEqual(foreign, [], 'requests to other origins');
}

/** Picks files and waits until each has a final status; returns {name: {status, label}}. */
async function analyse(page, files) {
  await page.locator('#file-input').setInputFiles(files);
  const rows = {};
  for (const file of files) {
    const name = file.split('/').pop();
    const row = page.locator(`[data-testid="job"][data-name="${name}"]`);
    await row.and(page.locator('[data-status="done"], [data-status="error"]')).waitFor({ timeout: ANALYSIS_TIMEOUT_MS });
    rows[name] = {
      status: await row.getAttribute('data-status'),
      label: await row.getAttribute('data-label'),
      text: await row.textContent(),
    };
  }
  return rows;
}

/** Non-background pixels on each canvas inside `scope`. */
async function canvasInk(scope) {
  return scope.locator('canvas').evaluateAll((canvases) =>
    canvases.map((c) => {
      const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
      let ink = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 0 && (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240)) ink++;
      }
      return ink;
    }),
  );
}

/** Clicks `button` and returns the downloaded file's name and text. */
async function download(page, button) {
  const [file] = await Promise.all([page.waitForEvent('download'), button.click()]);
  return { name: file.suggestedFilename(), text: readFileSync(await file.path(), 'utf8') };
}

describe('the app', () => {
  test('starts with its disclaimer, navigation and a loaded model, without errors', async () => {
    const session = await openApp();
    const { page } = session;
    assert.equal(await page.title(), 'HeartBeat');
    await page.getByText('A screening aid, not a diagnosis.').waitFor();
    const engine = await page.getByTestId('engine').textContent();
    assert.match(engine, /Model \S+ \S+ ready \(loaded in [\d.]+ ms\)/);
    assert.equal(engine.includes('Untrained'), !modelIsTrained());
    for (const name of ['Analyse', 'History', 'Analytics', 'Model']) {
      assert.equal(await page.getByRole('link', { name, exact: true }).count(), 1, name);
    }
    assertClean(session);
    await page.close();
  });

  test('labels a real normal and a real abnormal recording as the CLI does, WAV, FLAC and MP3', async (t) => {
    if (!data) return t.skip(`no PhysioNet data at ${DATA}`);
    const files = [data.normal.wav, data.abnormal.wav, data.normal.flac, data.abnormal.flac, data.normal.mp3, data.abnormal.mp3];
    const cli = cliClassify(files);
    assert.deepEqual(
      cli.map((r) => r.label),
      ['normal', 'abnormal', 'normal', 'abnormal', 'normal', 'abnormal'],
      'the CLI agrees with PhysioNet',
    );

    const session = await openApp();
    const { page } = session;
    // WAV and FLAC go through the same core decoder as the CLI; MP3 through the browser's Web
    // Audio. Each file name is distinct, so each gets its own row.
    const rows = await analyse(page, files);
    for (const [i, file] of files.entries()) {
      const name = file.split('/').pop();
      assert.equal(rows[name].status, 'done', `${name}: ${rows[name].text}`);
      assert.equal(rows[name].label, cli[i].label, name);
    }
    // Probabilities: the same core gives the same numbers; MP3, decoded and resampled by the
    // browser rather than by symphonia and rubato, stays close.
    const json = await download(page, page.getByRole('button', { name: 'Export JSON' }));
    const web = JSON.parse(json.text);
    for (const [i, file] of files.entries()) {
      const name = file.split('/').pop();
      const record = web.find((r) => r.file === name);
      const tolerance = name.endsWith('.mp3') ? 0.05 : 1e-3;
      assert.ok(
        Math.abs(record.probability_abnormal - cli[i].probability_abnormal) < tolerance,
        `${name}: browser ${record.probability_abnormal}, CLI ${cli[i].probability_abnormal}`,
      );
      assert.ok(Math.abs(record.duration_s - cli[i].duration_s) < 0.05, `${name}: ${record.duration_s} s vs ${cli[i].duration_s} s`);
    }
    assertClean(session);
    await page.close();
  });

  test('a batch with bad files: each gets a plain-words status, the rest go on', async (t) => {
    if (!data) return t.skip(`no PhysioNet data at ${DATA}`);
    const session = await openApp();
    const { page } = session;
    const files = [
      corruptWav(dir),
      toneWav(dir, 'one-second.wav', 1),
      toneWav(dir, 'empty.wav', 0),
      data.abnormal.wav,
    ];
    const rows = await analyse(page, files);
    assert.equal(rows['corrupt.wav'].status, 'error');
    assert.match(rows['corrupt.wav'].text, /not audio this browser can decode/);
    assert.equal(rows['one-second.wav'].status, 'error');
    assert.match(rows['one-second.wav'].text, /too short/);
    assert.equal(rows['empty.wav'].status, 'error');
    assert.match(rows['empty.wav'].text, /too short|empty/);
    assert.equal(rows[`${ABNORMAL}.wav`].status, 'done');
    const counts = await page.getByTestId('counts').textContent();
    assert.match(counts, /0 normal · 1 abnormal · 3 could not be analysed/);

    // Exported CSV: the CLI's columns, one row per finished file, errors in their column.
    const csv = await download(page, page.getByRole('button', { name: 'Export CSV' }));
    assert.equal(csv.name, 'heartbeat-results.csv');
    const lines = csv.text.trim().split('\r\n');
    assert.equal(lines[0], 'file,label,probability_abnormal,threshold,heart_rate_bpm,quality,quality_reasons,duration_s,error');
    assert.equal(lines.length, 5);
    assert.match(lines.find((l) => l.startsWith(`${ABNORMAL}.wav,`)), /^a0003\.wav,abnormal,0\.\d{4},0\.\d{4},/);
    assert.match(lines.find((l) => l.startsWith('corrupt.wav,')), /^corrupt\.wav,,,,,,,,.*not audio/);

    // Sorting by result puts the highest probability first when descending.
    const sortByResult = page.getByRole('button', { name: 'Result' });
    await sortByResult.click();
    await sortByResult.click();
    assert.equal(await page.locator('[data-testid="job"]').first().getAttribute('data-name'), `${ABNORMAL}.wav`);
    assertClean(session);
    await page.close();
  });

  test('shows why: the three charts draw, playback moves a cursor', async (t) => {
    if (!data) return t.skip(`no PhysioNet data at ${DATA}`);
    const session = await openApp();
    const { page } = session;
    await analyse(page, [data.abnormal.wav]);
    const result = page.getByTestId('result');
    await result.waitFor();
    assert.equal(await result.getAttribute('data-label'), 'abnormal');
    assert.match(await result.getByTestId('heart-rate').textContent(), /^\d+ bpm$/);
    // The heart cycle the segmentation timed.
    for (const id of ['systole', 'diastole']) {
      assert.match(await result.getByTestId(id).textContent(), /^\d+ ms$/, id);
    }
    assert.match(await result.getByTestId('variability').textContent(), /^[\d.]+ % \(RMSSD [\d.]+ ms\)$/);
    assert.equal(await result.getByTestId('duration').textContent(), '30.7 s');
    assert.match(await result.getByTestId('timing').textContent(), /ms from choosing the file/);
    await result.getByText('Screening aid, not a diagnosis').waitFor();
    const ink = await canvasInk(result);
    assert.equal(ink.length, 3, 'waveform, spectrogram, window probabilities');
    for (const [i, n] of ink.entries()) assert.ok(n > 2000, `canvas ${i} has ${n} drawn pixels`);
    // The canvases are sized for the screen's pixel ratio (crisp on high-DPI screens).
    const sizes = await result.locator('canvas').evaluateAll((cs) =>
      cs.map((c) => [c.width, Math.round(c.getBoundingClientRect().width * devicePixelRatio)]),
    );
    for (const [w, css] of sizes) assert.ok(Math.abs(w - css) <= 1, `${w} vs ${css}`);
    // Seeking the player places the cursor on the waveform, proportionally to the time.
    await result.locator('audio').evaluate(async (audio) => {
      await new Promise((ok, fail) => {
        if (audio.readyState >= 1) return ok();
        audio.addEventListener('loadedmetadata', ok, { once: true });
        audio.addEventListener('error', () => fail(new Error(`the recording cannot be played (code ${audio.error?.code})`)), { once: true });
        setTimeout(() => fail(new Error('no audio metadata within 10 s')), 10_000);
      });
      audio.currentTime = audio.duration / 2;
    });
    const cursor = result.locator('.cursor');
    await cursor.waitFor();
    const left = parseFloat(await cursor.evaluate((el) => el.style.left));
    assert.ok(left > 35 && left < 65, `cursor at ${left}% for the middle of the recording`);
    assertClean(session);
    await page.close();
  });

  test('keeps a history across reloads: reopen, export, delete, import without loss', async (t) => {
    if (!data) return t.skip(`no PhysioNet data at ${DATA}`);
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('dialog', (d) => d.accept());
    await page.goto(server.appUrl);
    await page.locator('html[data-ready="true"]').waitFor({ timeout: ANALYSIS_TIMEOUT_MS });
    await analyse(page, [data.normal.wav, data.abnormal.wav]);
    // Each result is saved in the history after it is shown.
    await page.locator('[data-testid="job"][data-history="saved"]').nth(1).waitFor();

    await page.reload();
    await page.getByRole('link', { name: 'History', exact: true }).click();
    const entries = page.getByTestId('history-entry');
    await entries.first().waitFor();
    assert.equal(await entries.count(), 2);
    const labels = Object.fromEntries(
      await entries.evaluateAll((rows) => rows.map((r) => [r.dataset.name, r.dataset.label])),
    );
    assert.deepEqual(labels, { [`${NORMAL}.wav`]: 'normal', [`${ABNORMAL}.wav`]: 'abnormal' });

    await page.getByRole('link', { name: `${ABNORMAL}.wav` }).click();
    const reopened = page.getByTestId('result');
    await reopened.waitFor();
    assert.equal(await reopened.getAttribute('data-label'), 'abnormal');
    const ink = await canvasInk(reopened);
    assert.equal(ink.length, 3);
    assert.ok(ink.every((n) => n > 2000), `reopened charts drew: ${ink}`);

    await page.getByRole('link', { name: '← All analyses' }).click();
    const exported = await download(page, page.getByRole('button', { name: 'Export history' }));
    assert.match(exported.name, /^heartbeat-history-\d{4}-\d{2}-\d{2}\.json$/);
    await page.getByRole('button', { name: 'Delete all' }).click();
    await page.getByText('No analyses yet.').waitFor();

    const file = `${dir}/history.json`;
    (await import('node:fs')).writeFileSync(file, exported.text);
    await page.locator('#history-import').setInputFiles(file);
    await page.getByText('Imported 2 analyses').waitFor();
    assert.equal(await entries.count(), 2);
    const again = await download(page, page.getByRole('button', { name: 'Export history' }));
    assert.equal(again.text, exported.text, 'export → import is lossless, byte for byte');

    // Analytics counts what the history holds.
    await page.getByRole('link', { name: 'Analytics', exact: true }).click();
    assert.equal(await page.getByTestId('total').textContent(), '2');
    assert.match(await page.getByTestId('median-total').textContent(), /ms$/);
    const charts = await canvasInk(page.locator('main'));
    assert.equal(charts.length, 3);
    assert.ok(charts.every((n) => n > 200), `analytics charts drew: ${charts}`);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('the model page shows the card: metrics, per-site table, ROC, confusion, training', async () => {
    const session = await openApp(`${server.appUrl}#/model`);
    const { page } = session;
    const rows = page.getByTestId('metrics').locator('tbody tr');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 7);
    assert.match(await rows.first().textContent(), /All \(pooled\)\d+0\.\d{3} ± 0\.\d{3}/);
    assert.match(await page.getByTestId('confusion').textContent(), /Called abnormal/);
    const ink = await canvasInk(page.locator('main'));
    assert.equal(ink.length, 2);
    assert.ok(ink.every((n) => n > 1000), `model charts drew: ${ink}`);
    await page.getByText('Intended use').waitFor();
    assertClean(session);
    await page.close();
  });

  test('works at phone width', async (t) => {
    if (!data) return t.skip(`no PhysioNet data at ${DATA}`);
    const context = await browser.newContext({ viewport: { width: 375, height: 740 }, deviceScaleFactor: 2 });
    const page = await context.newPage();
    await page.goto(server.appUrl);
    await page.locator('html[data-ready="true"]').waitFor({ timeout: ANALYSIS_TIMEOUT_MS });
    await analyse(page, [data.normal.wav]);
    await page.getByTestId('result').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    const widths = await page.getByTestId('result').locator('canvas').evaluateAll((cs) => cs.map((c) => c.width));
    assert.ok(widths.every((w) => w > 500 && w <= 750), `2x canvases at phone width: ${widths}`);
    await context.close();
  });

  test('works inside an iframe on a host page, under a sub-path', async (t) => {
    if (!data) return t.skip(`no PhysioNet data at ${DATA}`);
    const session = await openPage(browser);
    const { page } = session;
    await page.goto(server.hostUrl);
    const app = page.frameLocator('#app');
    await app.locator('html[data-ready="true"]').waitFor({ timeout: ANALYSIS_TIMEOUT_MS });
    await app.locator('#file-input').setInputFiles(data.abnormal.wav);
    const result = app.getByTestId('result');
    await result.waitFor({ timeout: ANALYSIS_TIMEOUT_MS });
    assert.equal(await result.getAttribute('data-label'), 'abnormal');
    assertClean(session);
    await page.close();
  });
});
