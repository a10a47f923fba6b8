// End-to-end: provable privacy. Under the app's Content-Security-Policy, nothing is reported
// as a violation; after the first load, analysing five recordings (WAV, FLAC, MP3) and opening
// every page makes no request at all; no request ever goes to another origin or carries a body.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium, mp3Of, physionetFlac, physionetWav, scratch, serveDist, DATA } from './harness.mjs';

const TIMEOUT_MS = 60_000;

let server;
let browser;
let files;

before(async () => {
  server = await serveDist();
  browser = await launchChromium();
  const dir = scratch();
  const [abnormal, normal] = [physionetWav('a0003', dir), physionetWav('e00002', dir)];
  if (abnormal && normal) {
    files = [abnormal, normal, physionetFlac('a0003'), mp3Of(abnormal, dir), mp3Of(normal, dir)];
  } else if (process.env.CI) {
    throw new Error(`CI needs the PhysioNet data at ${DATA}`);
  }
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Resolves once no request has started for `quietMs`. */
async function settled(requests, quietMs = 1500) {
  for (let seen = -1; seen !== requests.length; ) {
    seen = requests.length;
    await new Promise((ok) => setTimeout(ok, quietMs));
  }
}

test('no request after the first load, none elsewhere, none with a body; no CSP violation', async (t) => {
  if (!files) return t.skip(`no PhysioNet data at ${DATA}`);
  const context = await browser.newContext();
  // Every request of the page, its workers and its service worker.
  const requests = [];
  context.on('request', (r) => requests.push({ url: r.url(), method: r.method(), body: r.postDataBuffer() }));
  await context.addInitScript(() => {
    window.violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.violations.push(`${e.violatedDirective}: ${e.blockedURI}`));
  });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => msg.type() === 'error' && problems.push(msg.text()));
  page.on('pageerror', (err) => problems.push(err.message));

  await page.goto(server.appUrl);
  await page.locator('html[data-ready="true"]').waitFor({ timeout: TIMEOUT_MS });
  await page.getByTestId('offline-ready').waitFor({ timeout: TIMEOUT_MS });
  await settled(requests);
  const firstLoad = requests.length;

  await page.locator('#file-input').setInputFiles(files);
  for (const file of files) {
    const name = file.split('/').pop();
    await page.locator(`[data-testid="job"][data-name="${name}"][data-status="done"]`).waitFor({ timeout: TIMEOUT_MS });
  }
  await page.getByTestId('result').locator('audio').evaluate((audio) => audio.play().catch(() => {}));
  for (const link of ['History', 'Analytics', 'Model', 'Analyse']) {
    await page.getByRole('link', { name: link, exact: true }).click();
    await page.locator('main').waitFor();
    if (link === 'History') {
      await page.getByRole('link', { name: 'a0003.wav' }).click();
      await page.getByTestId('result').waitFor();
    }
  }
  await settled(requests);

  // Object URLs of the user's own files (the player) are local, not requests to anyone.
  const later = requests.slice(firstLoad).filter((r) => !r.url.startsWith('blob:'));
  assert.deepEqual(later.map((r) => r.url), [], 'requests after the first load');
  const elsewhere = requests.filter((r) => !r.url.startsWith(server.origin) && !r.url.startsWith('blob:'));
  assert.deepEqual(elsewhere.map((r) => r.url), [], 'requests to another origin');
  const sending = requests.filter((r) => r.method !== 'GET' || (r.body && r.body.length > 0));
  assert.deepEqual(sending.map((r) => `${r.method} ${r.url}`), [], 'requests that send anything');
  assert.deepEqual(await page.evaluate(() => window.violations), [], 'CSP violations');
  assert.deepEqual(problems, []);
  await context.close();
});
