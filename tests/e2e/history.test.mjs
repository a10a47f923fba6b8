// End-to-end: where the history lives. An earlier build's localStorage history moves into
// IndexedDB on the first start without losing a byte; a full or refused storage still shows the
// result, says plainly that it was not saved and how to make room, and loses nothing stored.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launchChromium, physionetWav, scratch, serveDist, DATA } from './harness.mjs';

const ANALYSIS_TIMEOUT_MS = 60_000;

let server;
let browser;
let wavs; // [normal, abnormal] PhysioNet WAVs, or null without the data set

before(async () => {
  server = await serveDist();
  browser = await launchChromium();
  const dir = scratch();
  const normal = physionetWav('e00002', dir);
  const abnormal = physionetWav('a0003', dir);
  if (normal && abnormal) wavs = [normal, abnormal];
  else if (process.env.CI) throw new Error(`CI needs the PhysioNet data at ${DATA}`);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** A fresh context's page on the app with its history open (or refused), collecting errors. */
async function open(context, url = server.appUrl) {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('dialog', (d) => d.accept());
  await page.goto(url);
  await page.locator('html[data-ready="true"]').waitFor({ timeout: ANALYSIS_TIMEOUT_MS });
  await page.locator('html[data-history="open"], html[data-history="unavailable"]').waitFor();
  return { page, problems };
}

/** Analyses `file` and waits until its result is shown and its save has ended. */
async function analyse(page, file) {
  await page.locator('#file-input').setInputFiles(file);
  const row = page.locator(`[data-testid="job"][data-name="${file.split('/').pop()}"]`);
  await row.and(page.locator('[data-history]')).waitFor({ timeout: ANALYSIS_TIMEOUT_MS });
  return row;
}

/** The downloaded text of the History page's export. */
async function exportHistory(page) {
  await page.goto(`${server.appUrl}#/history`);
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export history' }).click(),
  ]);
  return readFileSync(await file.path(), 'utf8');
}

/** Names listed on the History page. */
async function listed(page) {
  await page.goto(`${server.appUrl}#/history`);
  await page.locator('html[data-history="open"]').waitFor();
  const rows = page.getByTestId('history-entry');
  await rows.first().waitFor();
  return rows.evaluateAll((all) => all.map((r) => r.dataset.name).sort());
}

describe('the history', () => {
  /** An export of two real analyses: the document earlier builds kept in localStorage. */
  let old;

  before(async () => {
    if (!wavs) return;
    const context = await browser.newContext({ acceptDownloads: true });
    const { page } = await open(context);
    for (const wav of wavs) {
      assert.equal(await (await analyse(page, wav)).getAttribute('data-history'), 'saved');
    }
    old = await exportHistory(page);
    await context.close();
  });

  test("moves an earlier build's localStorage history into IndexedDB without loss", async (t) => {
    if (!wavs) return t.skip(`no PhysioNet data at ${DATA}`);
    const context = await browser.newContext({ acceptDownloads: true });
    // Any page of the app's origin can seed its localStorage before the app first starts.
    const seed = await context.newPage();
    await seed.goto(`${server.appUrl}no-such-page`);
    await seed.evaluate((doc) => localStorage.setItem('heartbeat.history', doc), old);
    await seed.close();

    const { page, problems } = await open(context);
    assert.equal(await page.evaluate(() => localStorage.getItem('heartbeat.history')), null, 'removed once moved');
    assert.deepEqual(await listed(page), ['a0003.wav', 'e00002.wav']);
    await page.getByRole('link', { name: 'a0003.wav' }).click();
    assert.equal(await page.getByTestId('result').getAttribute('data-label'), 'abnormal');
    assert.equal(await exportHistory(page), old, 'the export is the old document, byte for byte');

    // Reloaded, the moved history is still there, moved once.
    await page.reload();
    assert.deepEqual(await listed(page), ['a0003.wav', 'e00002.wav']);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('full: the result is shown, the user told how to make room, and nothing is stored', async (t) => {
    if (!wavs) return t.skip(`no PhysioNet data at ${DATA}`);
    const context = await browser.newContext({ acceptDownloads: true });
    const { page, problems } = await open(context);
    // Chromium's own quota, lowered below what the site uses once the release is cached for
    // offline use: the next write is refused with a real QuotaExceededError. (Chromium stops
    // enforcing an override once the site has written to IndexedDB, so it comes first; that a
    // refused write leaves what was stored intact is the store's own test.)
    await page.getByTestId('offline-ready').waitFor();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.origin, quotaSize: 1 });
    const row = await analyse(page, wavs[1]);
    assert.equal(await row.getAttribute('data-history'), 'not-saved');
    assert.equal(await row.getAttribute('data-status'), 'done');
    assert.match(await row.textContent(), /not saved in the history/);
    assert.equal(await page.getByTestId('result').getAttribute('data-label'), 'abnormal', 'the result is shown');
    const notice = await page.getByTestId('notice').textContent();
    assert.match(notice, /storage for HeartBeat is full/);
    assert.match(notice, /export the history.*delete old entries/);

    // Room made: the next result is saved, and the history holds it alone.
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.origin });
    assert.equal(await (await analyse(page, wavs[0])).getAttribute('data-history'), 'saved');
    await page.reload();
    assert.deepEqual(await listed(page), ['e00002.wav']);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('refused (a private window): the result is shown and the user told it is not kept', async (t) => {
    if (!wavs) return t.skip(`no PhysioNet data at ${DATA}`);
    const context = await browser.newContext();
    // What Firefox does when the user's settings refuse the site storage.
    await context.addInitScript(() => {
      Object.defineProperty(window, 'indexedDB', {
        get() {
          throw new DOMException('The operation is insecure.', 'SecurityError');
        },
      });
    });
    const { page, problems } = await open(context);
    assert.equal(await page.locator('html').getAttribute('data-history'), 'unavailable');
    const row = await analyse(page, wavs[1]);
    assert.equal(await row.getAttribute('data-history'), 'not-saved');
    assert.equal(await page.getByTestId('result').getAttribute('data-label'), 'abnormal', 'the result is shown');
    assert.match(await page.getByTestId('notice').textContent(), /does not let HeartBeat keep a history.*not saved/);
    await page.getByRole('link', { name: 'History', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'private windows' }).first().waitFor();
    assert.equal(await page.getByTestId('history-entry').count(), 0);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
