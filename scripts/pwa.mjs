// Trunk's post_build hook (Trunk.toml): makes the built app an installable, offline-capable and
// locked-down page. In the staging directory (TRUNK_STAGING_DIR, or the folder given):
//   - sw.js: public/sw.template.js preceded by this release's VERSION (a hash of every file) and its
//     PRECACHE list (every file, by relative URL), so a release is cached whole;
//   - index.html: the Content-Security-Policy meta tag, with the SHA-256 of each inline script
//     Trunk wrote (the wasm start-up), the only inline code allowed.
//   node scripts/pwa.mjs [DIR]
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = process.argv[2] ?? process.env.TRUNK_STAGING_DIR;
if (!dir) throw new Error('usage: node scripts/pwa.mjs DIR (or run as a Trunk hook)');

/**
 * What the page may load and connect to: its own origin only. Each exception is needed:
 *   'wasm-unsafe-eval'  compiling the app's own WebAssembly (no JavaScript eval is allowed);
 *   'sha256-…'          Trunk's inline start-up script, by hash;
 *   blob: in media-src  playing the recording being analysed (an object URL of the user's file);
 *   data: in img-src    the favicon, inline so that moving between pages fetches nothing;
 *   style-src-attr 'unsafe-inline'  plotters measures chart labels in a hidden <span> styled by
 *                       its style attribute (style attributes cannot run code; <style> elements
 *                       and style sheets from elsewhere stay refused).
 * frame-ancestors cannot be set from a meta tag: the README says which header to send.
 */
function policy(scriptHashes) {
  return [
    "default-src 'self'",
    `script-src 'self' 'wasm-unsafe-eval' ${scriptHashes.map((h) => `'sha256-${h}'`).join(' ')}`.trim(),
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'none'",
  ].join('; ');
}

function files(folder) {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

// index.html first: its CSP is part of what the version hashes.
const indexPath = join(dir, 'index.html');
let index = readFileSync(indexPath, 'utf8').replace(/<meta http-equiv="?Content-Security-Policy"?[^>]*>/i, '');
const inline = [...index.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)].map((m) => m[1]);
const hashes = inline.map((code) => createHash('sha256').update(code, 'utf8').digest('base64'));
const meta = `<meta http-equiv="Content-Security-Policy" content="${policy(hashes)}">`;
index = index.replace(/<meta charset=["']?utf-8["']?>/i, (charset) => charset + meta);
if (!index.includes(meta)) throw new Error('index.html has no <meta charset=utf-8> to put the CSP after');
writeFileSync(indexPath, index);

const assets = files(dir)
  .map((path) => relative(dir, path).split(sep).join('/'))
  .filter((path) => path !== 'sw.js')
  .sort();
const version = createHash('sha256');
for (const asset of assets) version.update(asset).update(readFileSync(join(dir, asset)));
const header =
  `const VERSION = ${JSON.stringify(version.digest('hex').slice(0, 16))};\n` +
  `const PRECACHE = ${JSON.stringify(assets)};\n`;
writeFileSync(join(dir, 'sw.js'), header + readFileSync(join(ROOT, 'public/sw.template.js'), 'utf8'));
console.log(`[pwa] sw.js: ${assets.length} files, version ${header.slice(17, 33)}; CSP with ${hashes.length} inline script hash(es)`);
