// End-to-end: the embed API. The example portal page (examples/portal/index.html), served from
// another origin, embeds the release build and talks to it through heartbeat-embed.js and raw
// postMessage; a third origin, not on embed.json's list, is ignored.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  cliClassify,
  launchChromium,
  openPage,
  physionetWav,
  scratch,
  serveDist,
  servePortal,
  DATA,
} from './harness.mjs';

const READY_TIMEOUT_MS = 60_000;
// a0003: 30.7 s, abnormal; e00002: 24 s, normal (as in app.test.mjs).
const ABNORMAL = 'a0003';
const NORMAL = 'e00002';

let portal;
let stranger;
let server;
let browser;
let wavs; // { abnormal, normal } paths, or null without the data set

before(async () => {
  portal = await servePortal();
  stranger = await servePortal();
  server = await serveDist({ 'embed.json': JSON.stringify({ allowed_origins: [portal.origin] }) });
  browser = await launchChromium();
  const dir = scratch();
  const abnormal = physionetWav(ABNORMAL, dir);
  const normal = physionetWav(NORMAL, dir);
  if (abnormal && normal) wavs = { abnormal, normal };
  else if (process.env.CI) throw new Error(`CI needs the PhysioNet data at ${DATA}`);
});

after(async () => {
  await browser?.close();
  await Promise.all([server?.close(), portal?.close(), stranger?.close()]);
});

/** The example portal with the app embedded, once `HeartBeat.embed` has resolved (`window.hb`). */
async function openPortal() {
  const session = await openPage(browser);
  await session.page.goto(`${portal.origin}/?app=${encodeURIComponent(server.appUrl)}`);
  await session.page.waitForFunction(() => window.hb, null, { timeout: READY_TIMEOUT_MS });
  return session;
}

/** The 16-bit mono samples of a WAV file's data chunk, as floats (full scale ±1). */
function pcmOf(wav) {
  const bytes = readFileSync(wav);
  let at = 12;
  while (bytes.toString('ascii', at, at + 4) !== 'data') at += 8 + bytes.readUInt32LE(at + 4);
  const rate = bytes.readUInt32LE(24);
  const n = bytes.readUInt32LE(at + 4) / 2;
  const samples = Array.from({ length: n }, (_, i) => bytes.readInt16LE(at + 8 + 2 * i) / 32768);
  return { samples, rate };
}

/**
 * Posts raw envelopes from the portal page to the app's iframe and resolves to the replies that
 * carry an id, once `expected` have come (or after `waitMs`).
 */
function postRaw(page, appOrigin, build, expected, waitMs = 30_000) {
  return page.evaluate(
    ({ appOrigin, build, expected, waitMs }) =>
      new Promise((resolve) => {
        const replies = [];
        const iframe = document.getElementById('heartbeat');
        const done = () => {
          removeEventListener('message', onMessage);
          resolve(replies);
        };
        const onMessage = (event) => {
          if (event.source !== iframe.contentWindow) return;
          const reply = event.data?.heartbeat;
          if (!reply || reply.type === 'ready' || reply.type === 'status') return;
          replies.push(reply);
          if (replies.length === expected) done();
        };
        addEventListener('message', onMessage);
        for (const envelope of new Function(`return (${build})`)()()) {
          iframe.contentWindow.postMessage(envelope, appOrigin);
        }
        setTimeout(done, waitMs);
      }),
    { appOrigin, build: build.toString(), expected, waitMs },
  );
}

const problemsAreClean = (session) => assert.deepEqual(session.problems, [], 'console errors or exceptions');

describe('embed API', { concurrency: false }, () => {
  test('a portal on the allow-list gets the CLI\'s report for a file and for PCM', async (t) => {
    if (!wavs) return t.skip(`no PhysioNet data at ${DATA}`);
    const [cliAbnormal, cliNormal] = cliClassify([wavs.abnormal, wavs.normal]);
    const session = await openPortal();
    const { page } = session;
    const model = await page.evaluate(() => hb.model);
    assert.ok(model.name && model.version, JSON.stringify(model));

    const fromFile = await page.evaluate(
      (b64) => hb.analyze(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer, { name: 'a0003.wav' }),
      readFileSync(wavs.abnormal).toString('base64'),
    );
    const pcm = pcmOf(wavs.normal);
    const fromPcm = await page.evaluate(
      ({ samples, rate }) => hb.analyze({ samples: Float32Array.from(samples), sampleRate: rate }),
      pcm,
    );
    for (const [web, cli] of [[fromFile, cliAbnormal], [fromPcm, cliNormal]]) {
      assert.equal(web.label, cli.label);
      assert.ok(Math.abs(web.probability_abnormal - cli.probability_abnormal) < 1e-4, `${web.probability_abnormal} vs ${cli.probability_abnormal}`);
      assert.equal(web.threshold, cli.threshold);
      assert.equal(web.quality.verdict, cli.quality.verdict);
      assert.ok(Math.abs(web.heart_rate_bpm - cli.heart_rate_bpm) < 0.5, `${web.heart_rate_bpm} vs ${cli.heart_rate_bpm} bpm`);
      assert.deepEqual(Object.keys(web).sort(), Object.keys(cli).filter((k) => k !== 'file').sort(), 'the CLI\'s fields');
    }

    // The nurse sees the portal's recordings in the app too; embed mode keeps no history
    // unless the portal asks for it (?history=1).
    const app = page.frameLocator('#heartbeat');
    await app.locator('[data-testid="job"][data-name="a0003.wav"][data-status="done"]').waitFor();
    assert.equal(await app.locator('html').getAttribute('data-embedded'), 'compact');
    assert.equal(await app.getByRole('navigation', { name: 'Pages' }).count(), 0, 'no navigation in compact embed mode');
    const frame = page.frames().find((f) => f.url().startsWith(server.origin));
    assert.equal(await app.locator('html').getAttribute('data-history'), 'off');
    assert.deepEqual(await frame.evaluate(async () => (await indexedDB.databases()).map((d) => d.name)), []);
    problemsAreClean(session);
    await page.close();
  });

  test('an origin not on the list gets no answer, and the status counts what it sent', async () => {
    const session = await openPortal();
    const { page } = session;
    const before = await page.evaluate(() => hb.status());
    assert.equal(before.engine, 'ready');
    // A frame from another origin inside the portal page, posting to the app's window.
    await page.evaluate((src) => {
      const frame = document.createElement('iframe');
      frame.id = 'stranger';
      frame.src = src;
      document.body.append(frame);
      return new Promise((ok) => frame.addEventListener('load', ok));
    }, `${stranger.origin}/blank.html`);
    const strangerFrame = page.frames().find((f) => f.url().startsWith(stranger.origin));
    const answers = await strangerFrame.evaluate(
      (appOrigin) =>
        new Promise((resolve) => {
          const app = parent.frames[0];
          let heard = 0;
          addEventListener('message', (e) => {
            if (e.data?.heartbeat) heard += 1;
          });
          app.postMessage({ heartbeat: { type: 'status', id: 1 } }, appOrigin);
          app.postMessage({ heartbeat: { type: 'analyze', id: 2 }, audio: new Uint8Array(64).buffer }, appOrigin);
          app.postMessage({ heartbeat: { type: 'nonsense' } }, appOrigin);
          setTimeout(() => resolve(heard), 3000);
        }),
      server.origin,
    );
    assert.equal(answers, 0, 'the stranger heard nothing');
    const afterStatus = await page.evaluate(() => hb.status());
    assert.equal(afterStatus.rejected_messages - before.rejected_messages, 3, JSON.stringify(afterStatus));
    assert.equal(afterStatus.answered, before.answered, 'nothing was analysed for the stranger');
    problemsAreClean(session);
    await page.close();
  });

  test('malformed and oversized messages get error replies, and the app goes on', async () => {
    const session = await openPortal();
    const { page } = session;
    const replies = await postRaw(
      page,
      server.origin,
      () => [
        { heartbeat: { type: 'dance', id: 'm1' } },
        { heartbeat: { type: 'analyze', id: 'm2' } },
        { heartbeat: { type: 'analyze', id: 'm3', sample_rate: 2000 }, audio: new ArrayBuffer(8) },
        { heartbeat: { type: 'analyze', id: 'm4', sample_rate: 2000 }, audio: new Float32Array(2000 * 601) },
        { heartbeat: { type: 'analyze', id: 'm5' }, audio: new Uint8Array([1, 2, 3]) },
        { heartbeat: 42 },
        { heartbeat: { type: 'status', id: 'x'.repeat(200) } },
      ],
      7,
    );
    const byId = Object.fromEntries(replies.map((r) => [r.id ?? 'none', r]));
    assert.equal(replies.length, 7, JSON.stringify(replies));
    assert.ok(replies.every((r) => r.type === 'error' && r.message.length > 10), JSON.stringify(replies));
    assert.match(byId.m1.message, /malformed/);
    assert.match(byId.m2.message, /no recording/);
    assert.match(byId.m3.message, /Float32Array/);
    assert.match(byId.m4.message, /too long/);
    assert.match(byId.m5.message, /decode|not audio/i);
    // Refusals wait their turn like analyses: answers come in the order sent.
    assert.deepEqual(replies.map((r) => r.id), ['m1', 'm2', 'm3', 'm4', 'm5', null, null]);
    const status = await page.evaluate(() => hb.status());
    assert.equal(status.engine, 'ready');
    assert.equal(status.pending, 0);
    problemsAreClean(session);
    await page.close();
  });

  test('twenty requests sent at once are answered once each, in order, with their ids', async (t) => {
    if (!wavs) return t.skip(`no PhysioNet data at ${DATA}`);
    const session = await openPortal();
    const { page } = session;
    await page.evaluate((b64) => {
      window.wav = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    }, readFileSync(wavs.abnormal).toString('base64'));
    const replies = await postRaw(
      page,
      server.origin,
      () => Array.from({ length: 20 }, (_, i) => ({ heartbeat: { type: 'analyze', id: i % 2 ? `r${i}` : i }, audio: window.wav.slice().buffer })),
      20,
      120_000,
    );
    const expected = Array.from({ length: 20 }, (_, i) => (i % 2 ? `r${i}` : i));
    assert.deepEqual(replies.map((r) => r.id), expected, 'each id once, in the order sent');
    assert.ok(replies.every((r) => r.type === 'result'), JSON.stringify(replies.filter((r) => r.type !== 'result')));
    const probabilities = new Set(replies.map((r) => r.report.probability_abnormal));
    assert.equal(probabilities.size, 1, 'the same recording, the same answer');
    const status = await page.evaluate(() => hb.status());
    assert.equal(status.answered, 20);
    problemsAreClean(session);
    await page.close();
  });
});
