// Shared pieces of the end-to-end tests: a static server for dist/, headless Chromium, and
// recordings turned into files the page can read. No test here touches the network.
import { createServer } from 'node:http';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const DIST = join(ROOT, 'dist');
/** CI keeps the data set next to the clone; HEARTBEAT_DATA overrides. */
export const DATA = process.env.HEARTBEAT_DATA ?? resolve(ROOT, '../shared/data/physionet2016');
/** The sub-path the app is served under, to prove its URLs are relative. */
export const APP_PATH = '/clinic/heartbeat/';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/** The page that embeds the app from the same folder, as a clinic portal might. */
const HOST_PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Clinic portal</title>
<link rel="icon" href="data:,"></head>
<body><h1>Clinic portal</h1>
<iframe id="app" title="HeartBeat" src="./index.html" width="800" height="900"></iframe>
</body></html>`;

/**
 * Serves dist/ under APP_PATH (plus `${APP_PATH}host.html`, and `extra`: file name → contents,
 * e.g. a deployer's embed.json) on 127.0.0.1 at a free port.
 * Resolves to { origin, appUrl, hostUrl, close, deploy(dir) }: `deploy` serves another build
 * from then on, as a server does after a release.
 */
export async function serveDist(extra = {}) {
  if (!existsSync(join(DIST, 'index.html'))) {
    throw new Error(`${DIST}/index.html is missing: run \`trunk build --release\` first`);
  }
  let dist = DIST;
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (path === `${APP_PATH}host.html`) {
      res.writeHead(200, { 'content-type': TYPES['.html'] }).end(HOST_PAGE);
      return;
    }
    const name = path.slice(APP_PATH.length);
    if (path.startsWith(APP_PATH) && Object.hasOwn(extra, name)) {
      res.writeHead(200, { 'content-type': TYPES[extname(name)] ?? 'text/plain' }).end(extra[name]);
      return;
    }
    if (!path.startsWith(APP_PATH)) {
      res.writeHead(404).end('not found');
      return;
    }
    let file = normalize(join(dist, path.slice(APP_PATH.length)));
    if (file !== dist && !file.startsWith(dist + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    appUrl: `${origin}${APP_PATH}`,
    hostUrl: `${origin}${APP_PATH}host.html`,
    close: () => new Promise((ok) => server.close(ok)),
    deploy: (dir) => {
      dist = dir;
    },
  };
}

/** A page with nothing on it, for scripts a test runs on another origin. */
const BLANK_PAGE = '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>blank</title><link rel="icon" href="data:,"></head><body></body></html>';

/**
 * Serves the example portal page (examples/portal/index.html) at `/`, and a blank page at
 * `/blank.html`, on 127.0.0.1 at a free port: another origin than the app's.
 * Resolves to { origin, close }.
 */
export async function servePortal() {
  const pages = { '/': readFileSync(join(ROOT, 'examples/portal/index.html')), '/blank.html': BLANK_PAGE };
  const server = createServer((req, res) => {
    const page = pages[new URL(req.url, 'http://x').pathname];
    if (page) res.writeHead(200, { 'content-type': TYPES['.html'] }).end(page);
    else res.writeHead(404).end('not found');
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((ok) => server.close(ok)),
  };
}

/** How every test runs Chromium: headless, and quiet on this machine's closed network. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const CHROMIUM_PATH = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Debian's Chromium, headless, with `extra` arguments; never a downloaded browser. */
export function launchChromium(extra = []) {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, ...extra] });
}

/**
 * Debian's Chromium with a profile of its own (a fresh folder): a context that is not
 * incognito, as an installed app's is. Resolves to a BrowserContext.
 */
export function launchProfile() {
  return chromium.launchPersistentContext(scratch(), { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/**
 * Opens a page that records console errors, uncaught exceptions and every request's URL, so a
 * test can assert the app logged no errors and asked nothing of any other origin.
 */
export async function openPage(browser) {
  const page = await browser.newPage();
  const problems = [];
  const requests = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console.error: ${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  page.on('request', (req) => requests.push(req.url()));
  return { page, problems, requests };
}

/** A scratch folder for generated recordings. */
export const scratch = () => mkdtempSync(join(tmpdir(), 'heartbeat-e2e-'));

/** A PhysioNet recording's FLAC file as shipped in the data set, or null when it is not there. */
export function physionetFlac(record) {
  const flac = join(DATA, `training-${record[0]}`, `${record}.flac`);
  return existsSync(flac) ? flac : null;
}

/**
 * A PhysioNet recording as 16-bit WAV: `flac -d` restores PhysioNet's original WAV byte for byte.
 * Returns null when the data set is not there.
 */
export function physionetWav(record, dir) {
  const flac = physionetFlac(record);
  if (!flac) return null;
  const wav = join(dir, `${record}.wav`);
  try {
    execFileSync('flac', ['-d', '-s', '-f', '-o', wav, flac]);
  } catch {
    execFileSync('sox', [flac, '-b', '16', wav]);
  }
  return wav;
}

/**
 * `wav` re-encoded as 44.1 kHz MP3 (ffmpeg): a format the page decodes through the browser's
 * Web Audio rather than the core.
 */
export function mp3Of(wav, dir) {
  const mp3 = join(dir, wav.split('/').pop().replace(/\.wav$/, '.mp3'));
  execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-i', wav, '-ar', '44100', '-c:a', 'libmp3lame', '-q:a', '2', mp3]);
  return mp3;
}

/** A valid mono 16-bit WAV of `seconds` of a 60 Hz tone: real audio, but maybe too short. */
export function toneWav(dir, name, seconds, rate = 2000) {
  const n = Math.round(seconds * rate);
  const bytes = Buffer.alloc(44 + 2 * n);
  bytes.write('RIFF', 0);
  bytes.writeUInt32LE(36 + 2 * n, 4);
  bytes.write('WAVEfmt ', 8);
  bytes.writeUInt32LE(16, 16);
  bytes.writeUInt16LE(1, 20);
  bytes.writeUInt16LE(1, 22);
  bytes.writeUInt32LE(rate, 24);
  bytes.writeUInt32LE(rate * 2, 28);
  bytes.writeUInt16LE(2, 32);
  bytes.writeUInt16LE(16, 34);
  bytes.write('data', 36);
  bytes.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) {
    bytes.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 60 * i) / rate)), 44 + 2 * i);
  }
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/**
 * What the CLI (`heartbeat classify`, the same core natively) says about `files`: one record per
 * file with `label` and `probability_abnormal`, or `error`.
 *
 * The binary is the one `cargo test --workspace` built a step earlier for the CLI's own tests:
 * asking cargo for it again costs nothing. `cargo run -p heartbeat-cli` (or any `cargo build`)
 * resolves other features — the CLI's alone, without dev-dependencies — and rebuilt the core and
 * tract-onnx: minutes on a cold cache, for the same code.
 */
export function cliClassify(files) {
  const captured = { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 };
  const build = execFileSync(
    'cargo',
    ['test', '--offline', '--quiet', '--workspace', '--no-run', '--message-format=json'],
    captured,
  );
  const exe = build
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
    .find(
      (msg) =>
        msg.reason === 'compiler-artifact' &&
        msg.target.name === 'heartbeat' &&
        msg.target.kind.includes('bin') &&
        !msg.profile.test,
    )?.executable;
  if (!exe) throw new Error('cargo test --no-run reported no heartbeat executable');
  const out = execFileSync(exe, ['classify', ...files], captured);
  return out.trim().split('\n').map((line) => JSON.parse(line));
}

/** Bytes that are no audio format at all, named like a WAV file. */
export function corruptWav(dir) {
  const path = join(dir, 'corrupt.wav');
  let seed = 12345;
  const bytes = Buffer.alloc(8192, 0).map(() => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed >> 16;
  });
  writeFileSync(path, bytes);
  return path;
}

/** Whether the bundled model card says the model is trained. */
export function modelIsTrained() {
  return JSON.parse(readFileSync(join(ROOT, 'models/heartbeat.card.json'), 'utf8')).trained === true;
}
