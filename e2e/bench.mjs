// The playground's speed in headless Chromium (`cargo xtask bench web`): figures for
// BENCHMARKS.md, never asserted. Usage: node e2e/bench.mjs <dist-dir> [runs]
//
// Every time is taken inside the page with performance.now(): from navigation (its origin), or
// from the keydown of the key pressed, to the first DOM change that shows the result (seen by a
// MutationObserver) and to the frame after it (requestAnimationFrame, then a task: the frame
// that paints the change has been produced).
import path from 'node:path';
import { serve, launch } from './serve.mjs';

const dist = path.resolve(process.argv[2] ?? 'dist');
const runs = Number(process.argv[3] ?? 7);

// Installed in every page before its scripts: `__bench.watch(test)` resolves with the times at
// which `test()` first held after the last keydown (`dom`) and after the next frame (`frame`);
// `__bench.ready` has the times the page became usable.
const probe = () => {
  const b = { keydown: 0, ready: {} };
  window.__bench = b;
  document.addEventListener('keydown', () => {
    b.keydown = performance.now();
    b.posted = NaN;
    b.answered = NaN;
  }, true);
  document.addEventListener('input', () => { b.input = performance.now(); }, true);
  // When the page posts a Dockerfile to a worker to analyse and when the answer reaches the
  // page (its message task begins): the keystroke's time split into the page's, the round trip
  // through the worker, and the page's again (none when the page analyses it itself).
  const Native = window.Worker;
  window.Worker = class extends Native {
    constructor(url, options) {
      super(url, options);
      const post = this.postMessage.bind(this);
      this.postMessage = (m, t) => {
        if (typeof m === 'string' && m.startsWith('{"Analyze"')) b.posted = performance.now();
        return t === undefined ? post(m) : post(m, t);
      };
      this.addEventListener('message', (e) => {
        if (typeof e.data === 'string' && e.data.startsWith('{"Analysis"')) b.answered = performance.now();
      });
    }
  };
  const seen = (name, test) => {
    const check = () => {
      if (b.ready[name] !== undefined || !test()) return false;
      b.ready[name] = performance.now();
      return true;
    };
    const obs = new MutationObserver(() => { if (check()) obs.disconnect(); });
    obs.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  };
  const text = (sel) => document.querySelector(sel)?.textContent ?? '';
  seen('editor', () => document.querySelector('#editor') && document.querySelector('#terminal-input'));
  seen('engine', () => text('#status').includes('engine: ready'));
  seen('analysis', () => text('#status .problems').startsWith('problems: ') && !text('#status .problems').includes('checking'));
  // Gives up after 30 s (then the times are NaN and the run fails).
  // The key's own times are read when `test()` holds, not when the watch starts: the page may
  // run this before or after the keydown that Playwright sends meanwhile.
  b.watch = (test) => new Promise((resolve) => {
    setTimeout(() => resolve({ dom: NaN, frame: NaN, input: NaN }), 30000);
    const done = () => {
      const [start, input, posted, answered] = [b.keydown, b.input, b.posted, b.answered];
      const seen = performance.now();
      const dom = seen - start;
      requestAnimationFrame(() => setTimeout(() => {
        const now = performance.now();
        resolve({ dom, frame: now - start, input: now - input,
          post: posted - input, trip: answered - posted, show: seen - answered });
      }, 0));
    };
    if (test()) { done(); return; }
    const obs = new MutationObserver(() => { if (test()) { obs.disconnect(); done(); } });
    obs.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  });
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (xs) => `${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)})`;

const server = await serve(dist, { cache: true });
const browser = await launch();
const results = {};
const add = (name, v) => {
  if (!Number.isFinite(v)) throw new Error(`${name}: not seen within 30 s`);
  (results[name] ??= []).push(v);
};

// Builds are timed at the speed control's `instant`: what the engine made, shown at once. At 1×
// the page plays a build back step by step on purpose (a few seconds), which is not its speed.
async function freshPage(context) {
  const page = await context.newPage({ viewport: { width: 1280, height: 800 } });
  await page.addInitScript(probe);
  await page.addInitScript(() => localStorage.setItem('layerbox.speed', 'instant'));
  return page;
}
async function waitReady(page) {
  await page.waitForFunction(() => ['editor', 'engine', 'analysis'].every((k) => window.__bench.ready[k] !== undefined),
    null, { timeout: 30000 });
  return page.evaluate(() => window.__bench.ready);
}
// Presses Enter on `line` at the prompt and resolves with the times until `test` holds.
async function enter(page, line, test, arg) {
  await page.fill('#terminal-input', line);
  const watching = page.evaluate(({ test, arg }) => window.__bench.watch(() => new Function('arg', test)(arg)),
    { test: `return (${test})(arg)`, arg });
  await page.press('#terminal-input', 'Enter');
  return watching;
}
const layersShown = (want) => {
  const root = document.querySelector('#views-root');
  if (!(root?.textContent ?? '').includes('Layers of my-app')) return false;
  const built = root.querySelectorAll('.layer.built').length;
  const cached = root.querySelectorAll('.layer.cached').length;
  return want === 'built' ? built > 0 && cached === 0 : cached > 0 && built === 0;
};
const buildPrinted = (n) => [...document.querySelectorAll('#transcript .t-err')]
  .filter((e) => e.textContent.includes('naming to docker.io/library/my-app')).length >= n;

for (let i = 0; i < runs; i++) {
  // Ready to type: a fresh context has an empty HTTP cache; a reload then finds it full.
  const context = await browser.newContext();
  const page = await freshPage(context);
  await page.goto(server.base);
  const cold = await waitReady(page);
  add('ready to type, cold (editor and prompt in the DOM)', cold.editor);
  add('engine worker ready, cold', cold.engine);
  add('first diagnostics, cold', cold.analysis);
  await page.reload();
  const warm = await waitReady(page);
  add('ready to type, warm (HTTP cache)', warm.editor);
  add('engine worker ready, warm', warm.engine);

  // The article's Python example (the page's default project), built from the prompt.
  let t = await enter(page, 'docker build -t my-app .', layersShown, 'built');
  add('build, cold: layers shown (catalog fetched, base image modelled)', t.frame);
  t = await enter(page, 'docker build -t my-app .', layersShown, 'cached');
  add('build, warm: every step cached, layers shown', t.frame);
  t = await enter(page, 'docker build --no-cache -t my-app .', layersShown, 'built');
  add('build, warm engine, --no-cache: layers shown', t.frame);
  t = await enter(page, 'docker build -t my-app .', buildPrinted, 4);
  add('build, warm, cached: output in the terminal', t.frame);

  // Diagnostics after a keystroke in a 300-line Dockerfile: a letter before an instruction
  // makes an unknown instruction (an error appears); Backspace takes it away again.
  await page.fill('#editor', dockerfile300());
  await page.waitForFunction(() => document.querySelector('#status .problems').textContent.startsWith('problems: 0 errors'));
  // Let the worker finish what the builds and the new text started (saving the engine's
  // state, modelling the new base image ahead of a build) before timing keystrokes.
  await page.waitForTimeout(2000);
  const at = await page.evaluate(() => document.querySelector('#editor').value.indexOf('RUN echo line-150'));
  await page.focus('#editor');
  await page.evaluate((at) => document.querySelector('#editor').setSelectionRange(at, at), at);
  for (let k = 0; k < 5; k++) {
    let w = page.evaluate(() => window.__bench.watch(() => document.querySelector('.diag.sev-error') !== null
      && document.querySelector('#editor').closest('.code').querySelector('.squiggle.sev-error') !== null));
    await page.keyboard.press('X');
    t = await w;
    add('keystroke in a 300-line Dockerfile: error listed and underlined', t.frame);
    add('keystroke in a 300-line Dockerfile: error listed (DOM, before the frame)', t.dom);
    add('keystroke in a 300-line Dockerfile: error listed (frame), from the input event', t.input);
    if (Number.isFinite(t.trip)) {
      add('  input event to the text posted to the worker', t.post);
      add('  posted to answer received (two hops and the worker)', t.trip);
      add('  answer received to the error in the DOM', t.show);
    }
    w = page.evaluate(() => window.__bench.watch(() => document.querySelector('.diag.sev-error') === null
      && document.querySelector('.squiggle') === null));
    await page.keyboard.press('Backspace');
    t = await w;
    add('keystroke in a 300-line Dockerfile: error gone', t.frame);
  }
  await context.close();
}

console.log(`Medians of ${runs} runs (fresh browser context each), headless Chromium, release build:`);
for (const [name, xs] of Object.entries(results)) console.log(`  ${name.padEnd(78)} ${fmt(xs)}`);
await browser.close();
server.close();

// A realistic 300-line Dockerfile without findings: stages, ARG/ENV, RUN with continuations,
// COPY, LABEL; line 150 is `RUN echo line-150`.
function dockerfile300() {
  const lines = ['# syntax=docker/dockerfile:1', 'ARG BASE=debian:bookworm-slim', 'FROM ${BASE} AS build',
    'WORKDIR /src', 'ENV PATH=/opt/tools/bin:$PATH LANG=C.UTF-8'];
  let n = lines.length;
  while (lines.length < 296) {
    n = lines.length + 1;
    switch (n % 6) {
      case 0: lines.push(`RUN echo step-${n} \\`, `    && mkdir -p /out/s${n} \\`, `    && echo done > /out/s${n}/ok`); break;
      case 1: lines.push(`COPY src/part${n}.txt /src/part${n}.txt`); break;
      case 2: lines.push(`ENV STEP_${n}=value-${n}`); break;
      case 3: lines.push(`LABEL org.example.step${n}="step ${n}"`); break;
      case 4: lines.push(`RUN echo step-${n}`); break;
      default: lines.push(`# step ${n}: a comment about what follows`); break;
    }
  }
  // Line 150 (or the first instruction after it) is `RUN echo line-150`.
  let i = 149;
  while (lines[i - 1].endsWith('\\')) i++;
  lines.splice(i, 0, 'RUN echo line-150');
  lines.length = 296;
  lines[295] = lines[295].replace(/ \\$/, '');
  lines.push('FROM debian:bookworm-slim', 'COPY --from=build /out /out', 'USER nobody', 'CMD ["sh", "-c", "ls /out"]');
  return lines.join('\n') + '\n';
}
