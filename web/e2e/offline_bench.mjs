// The offline copy at scale, in headless Chromium against the real server: a household of
// N items seeded straight into the database (`hi-bench seed`), then, as a person would meet
// them: the first download after signing in (time, what IndexedDB then holds, the page's
// memory, the longest the page stopped answering, the progress it showed), a search of the
// whole copy with the network off, and catching up after 100 changes made elsewhere.
//
//   node offline_bench.mjs 10000 100000     prints one Markdown table row per size
//
// Needs HI_BIN, HI_BENCH (the hi-bench binary), HI_STATIC_DIR (a release build of the app)
// and CHROMIUM, as `cargo xtask bench` sets them.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { launchBrowser, startServer } from './harness.mjs';

const EMAIL = 'offline.bench@example.com';
const PASSWORD = 'benchmark password';
const SEARCHES = 20;
const REMOTE_CHANGES = 100;

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** The renderer processes' resident memory, MiB (the page's JS heap, wasm and DOM). */
function rendererRss() {
  const out = execFileSync('ps', ['-eo', 'rss,args'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes('--type=renderer'))
    .map((l) => Number(l.trim().split(/\s+/)[0]) / 1024)
    .reduce((a, b) => Math.max(a, b), 0);
}

async function measure(items) {
  const data = mkdtempSync(join(tmpdir(), 'hi-offline-bench-'));
  const database = `sqlite:${join(data, 'bench.db')}`;
  const server = await startServer({ DATABASE_URL: database });
  const browser = await launchBrowser();
  try {
    const api = async (method, path, body, cookie) => {
      const response = await fetch(`${server.url}/api/v1${path}`, {
        method,
        headers: { ...(cookie ? { cookie } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
      return response;
    };
    await api('POST', '/auth/register', { name: 'Bench', email: EMAIL, password: PASSWORD });
    const seeded = execFileSync(process.env.HI_BENCH, ['seed', EMAIL, String(items), String(Math.max(10, items / 200))], {
      env: { ...process.env, DATABASE_URL: database },
      encoding: 'utf8',
    });
    const value = (k) => seeded.split('\n').find((l) => l.startsWith(`${k}=`))?.slice(k.length + 1);
    const hid = value('household');
    const needle = value('search');

    const context = await browser.newContext({ baseURL: server.url, viewport: { width: 375, height: 740 } });
    context.setDefaultTimeout(600_000);
    const page = await context.newPage();
    await page.goto('/signin');
    // The longest the page stopped answering while it downloaded.
    // (A timer that should fire every 20 ms: the longest it was late.)
    await page.evaluate(() => {
      window.longest = 0;
      let last = performance.now();
      setInterval(() => {
        const now = performance.now();
        window.longest = Math.max(window.longest, now - last - 20);
        last = now;
      }, 20);
    });
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    const started = Date.now();
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    let sawProgress = false;
    // The copy's module, at the address the app imported it from (the same instance).
    let snippet;
    for (;;) {
      snippet ??= await page.evaluate(() =>
        performance.getEntriesByType('resource').map((r) => r.name).find((n) => n.includes('/snippets/')),
      );
      const badge = await page.getByRole('status').first().textContent().catch(() => '');
      if (badge?.includes('Saving for offline use')) sawProgress = true;
      const done = await page.evaluate(
        async ({ snippet, hid }) => {
          if (!snippet) return false;
          const m = await import(snippet);
          // Done once no first download is under way and the copy answers.
          return !m.status().household && (await m.read(hid, 'items', { limit: 1 })) !== null;
        },
        { snippet, hid },
      );
      if (done) break;
      await page.waitForTimeout(250);
    }
    const firstSync = (Date.now() - started) / 1000;
    const longest = await page.evaluate(() => window.longest);
    const stored = await page.evaluate(async () => (await navigator.storage.estimate()).usage / 1024 / 1024);
    const heap = await page.evaluate(() => performance.memory?.usedJSHeapSize / 1024 / 1024);
    const rss = rendererRss();

    // Offline: the whole copy searched, as the items page asks it.
    await context.setOffline(true);
    const times = await page.evaluate(
      async ({ snippet, hid, needle, n }) => {
        const m = await import(snippet);
        const out = [];
        for (let i = 0; i < n; i++) {
          const t = performance.now();
          const text = await m.read(hid, 'items', { q: i % 2 ? needle : needle.toUpperCase(), sort: 'name', limit: 50 });
          if (!text || JSON.parse(text).items.length === 0) throw new Error('the search found nothing');
          out.push(performance.now() - t);
        }
        return out.sort((a, b) => a - b);
      },
      { snippet, hid, needle, n: SEARCHES },
    );
    await context.setOffline(false);

    // Catching up after changes made elsewhere.
    const login = await api('POST', '/auth/login', { email: EMAIL, password: PASSWORD });
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const listed = await (await api('GET', `/households/${hid}/items?limit=${REMOTE_CHANGES}&sort=updated`, null, cookie)).json();
    for (const item of listed.items) {
      await api('PATCH', `/households/${hid}/items/${item.id}`, { notes: `changed elsewhere ${item.version}` }, cookie);
    }
    const resync = await page.evaluate(
      async ({ snippet, hid }) => {
        const m = await import(snippet);
        const t = performance.now();
        const status = await m.sync(hid);
        if (status !== 0) throw new Error(`sync answered ${status}`);
        return performance.now() - t;
      },
      { snippet, hid },
    );
    await context.close();
    return {
      items,
      firstSync,
      stored,
      heap,
      rss,
      longest,
      sawProgress,
      search: [percentile(times, 50), percentile(times, 95)],
      resync,
    };
  } finally {
    await browser.close();
    await server.stop();
    rmSync(data, { recursive: true, force: true });
  }
}

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
console.log('| items | first download | IndexedDB | page JS heap | renderer RSS | longest task | progress shown | offline search p50 / p95 | catch up after 100 changes |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const n of sizes.length ? sizes : [10_000]) {
  const r = await measure(n);
  console.log(
    `| ${r.items.toLocaleString('en')} | ${r.firstSync.toFixed(1)} s | ${r.stored.toFixed(0)} MiB | ${r.heap.toFixed(0)} MiB | ${r.rss.toFixed(0)} MiB | ${r.longest.toFixed(0)} ms | ${r.sawProgress ? 'yes' : 'no'} | ${r.search[0].toFixed(1)} / ${r.search[1].toFixed(1)} ms | ${r.resync.toFixed(0)} ms |`,
  );
}
