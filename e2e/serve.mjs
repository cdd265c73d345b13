// What the end-to-end tests and the speed benchmark share: a static server for dist/ on
// loopback and headless Chromium launched with the quiet-network flags of the toolchain recipe.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm',
  '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml', '.gz': 'application/gzip' };

/// Serves `dist` on 127.0.0.1 (a free port); resolves to `{ base, close }`. With `cache`, every
/// answer may be kept for an hour, as a static host's assets usually are.
export async function serve(dist, { cache = false } = {}) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let file = path.join(dist, decodeURIComponent(url.pathname));
    if (!file.startsWith(dist)) { res.writeHead(403).end(); return; }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    fs.readFile(file, (err, data) => {
      if (err) { res.writeHead(404).end(); return; }
      const headers = { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' };
      if (cache) headers['cache-control'] = 'max-age=3600';
      res.writeHead(200, headers);
      res.end(data);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}

/// Headless Chromium (`CHROMIUM` overrides the binary).
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}
