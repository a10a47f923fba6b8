// End-to-end: installed and offline. The release build, served from a sub-path, is installable;
// after one visit it analyses a real recording with the network off, exactly as online; a new
// release waits for the user's "reload", then runs, offline too, with the old cache gone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { launchChromium, launchProfile, physionetWav, scratch, serveDist, DATA, DIST, ROOT } from './harness.mjs';

const TIMEOUT_MS = 60_000;
const RECORD = 'a0003';

let server;
let browser;
let dir;
let wav;

before(async () => {
  server = await serveDist();
  browser = await launchChromium();
  dir = scratch();
  wav = physionetWav(RECORD, dir);
  if (!wav && process.env.CI) throw new Error(`CI needs the PhysioNet data at ${DATA}`);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** A page in a fresh context that records console errors; the app open and ready to analyse. */
async function openApp(context) {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => msg.type() === 'error' && problems.push(msg.text()));
  page.on('pageerror', (err) => problems.push(err.message));
  await page.goto(server.appUrl);
  await page.locator('html[data-ready="true"]').waitFor({ timeout: TIMEOUT_MS });
  return { page, problems };
}

/** Analyses `file` and returns the exported JSON record, without the time it took. */
async function analyse(page, file) {
  await page.locator('#file-input').setInputFiles(file);
  const name = file.split('/').pop();
  await page.locator(`[data-testid="job"][data-name="${name}"][data-status="done"]`).last().waitFor({ timeout: TIMEOUT_MS });
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
  const records = JSON.parse(readFileSync(await download.path(), 'utf8'));
  const { analysis_ms: _, ...record } = records.at(-1);
  return record;
}

describe('installed and offline', { concurrency: false }, () => {
  test('Chromium judges the app installable', async () => {
    // A profile of its own: Chromium installs nothing from an incognito context.
    const context = await launchProfile();
    const { page, problems } = await openApp(context);
    await page.getByTestId('offline-ready').waitFor({ timeout: TIMEOUT_MS });
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(installabilityErrors, []);
    const { url, errors } = await cdp.send('Page.getAppManifest');
    assert.ok(url.startsWith(server.appUrl), url);
    assert.deepEqual(errors, []);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('after one visit, a recording is analysed offline exactly as online', async (t) => {
    if (!wav) return t.skip(`no PhysioNet data at ${DATA}`);
    const context = await browser.newContext();
    const { page, problems } = await openApp(context);
    await page.getByTestId('offline-ready').waitFor({ timeout: TIMEOUT_MS });
    const online = await analyse(page, wav);

    await context.setOffline(true);
    await page.reload();
    await page.locator('html[data-ready="true"]').waitFor({ timeout: TIMEOUT_MS });
    const offline = await analyse(page, wav);
    assert.deepEqual(offline, online);
    assert.equal(online.label, 'abnormal');
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('a new release waits for "reload", then runs, offline too, and the old cache goes', async (t) => {
    if (!wav) return t.skip(`no PhysioNet data at ${DATA}`);
    const context = await browser.newContext();
    const { page, problems } = await openApp(context);
    await page.getByTestId('offline-ready').waitFor({ timeout: TIMEOUT_MS });
    const firstCaches = await page.evaluate(() => caches.keys());
    assert.equal(firstCaches.length, 1, firstCaches.join());

    // The next release: this build with a changed page, its sw.js written as Trunk's hook does.
    const next = join(dir, 'next-release');
    cpSync(DIST, next, { recursive: true });
    const index = join(next, 'index.html');
    writeFileSync(index, readFileSync(index, 'utf8').replace('<title>HeartBeat</title>', '<title>HeartBeat (next)</title>'));
    execFileSync('node', [join(ROOT, 'scripts/pwa.mjs'), next]);
    server.deploy(next);
    try {
      await page.reload();
      await page.getByTestId('update').waitFor({ timeout: TIMEOUT_MS });
      assert.equal(await page.title(), 'HeartBeat', 'the running release stays until the user reloads');
      await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Reload to update' }).click()]);
      await page.locator('html[data-ready="true"]').waitFor({ timeout: TIMEOUT_MS });
      assert.equal(await page.title(), 'HeartBeat (next)');
      await page.getByTestId('offline-ready').waitFor({ timeout: TIMEOUT_MS });
      const caches = await page.evaluate(() => caches.keys());
      assert.equal(caches.length, 1, `only the new release's cache: ${caches.join()}`);
      assert.notDeepEqual(caches, firstCaches);

      await context.setOffline(true);
      await page.reload();
      await page.locator('html[data-ready="true"]').waitFor({ timeout: TIMEOUT_MS });
      assert.equal(await page.title(), 'HeartBeat (next)');
      assert.equal((await analyse(page, wav)).label, 'abnormal');
      assert.deepEqual(problems, []);
    } finally {
      server.deploy(DIST);
      await context.close();
    }
  });
});
