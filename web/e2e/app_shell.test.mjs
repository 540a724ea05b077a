// The app as an installable PWA: its service worker keeps the build, so a reload with no
// network opens the app (from the device's copy) instead of the browser's error page; the API is never kept by the
// worker; a build deployed under an open page offers "A new version is ready" and moves
// over on Reload, and no file the app asks for answers 404 or the page instead.
// On a phone-sized screen. The built app is copied, so a test can deploy a new build.

import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { gone, launchBrowser, screenshot, startServer, steps, visible } from './harness.mjs';

const viewport = 'phone';

describe('the app shell on a phone (375x740)', () => {
  let site;
  let server;
  let browser;
  let context;
  let page;
  // Every answer the page got for a file of the app (not the API, not a page load).
  const files = [];
  const step = steps(test, () => page, viewport, 'app-shell');

  /** Names of the worker's caches, and every address kept in them. */
  const kept = () =>
    page.evaluate(async () => {
      const names = await caches.keys();
      const urls = [];
      for (const name of names) {
        for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
      }
      return { names, urls };
    });

  before(async () => {
    site = mkdtempSync(join(tmpdir(), 'hi-site-'));
    cpSync(process.env.HI_STATIC_DIR, site, { recursive: true });
    server = await startServer({ STATIC_DIR: site });
    browser = await launchBrowser();
    context = await browser.newContext({
      viewport: { width: 375, height: 740 },
      baseURL: server.url,
    });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
    page.on('response', (response) => {
      const url = new URL(response.url());
      const request = response.request();
      if (url.origin === server.url && !url.pathname.startsWith('/api/') && !request.isNavigationRequest()) {
        files.push({
          path: url.pathname,
          status: response.status(),
          type: response.headers()['content-type'] || '',
        });
      }
    });
  });

  after(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
    if (site) rmSync(site, { recursive: true, force: true });
  });

  step('a new person signs up, and the worker takes charge of the page', async () => {
    await page.goto('/signup');
    await visible(page.getByRole('heading', { name: 'Create your account' }));
    await page.getByLabel('Name').fill('Sam Ortiz');
    await page.getByLabel('Email').fill('sam.shell@example.com');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await visible(page.getByRole('heading', { name: 'Dashboard' }));
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15_000 });
    const { names, urls } = await kept();
    assert.equal(names.length, 1, `one build kept: ${names}`);
    assert.match(names[0], /^home-inventory-app-[0-9a-f]{16}$/);
    const paths = urls.map((u) => new URL(u).pathname);
    for (const expected of ['/index.html', '/manifest.webmanifest', '/icon.svg']) {
      assert.ok(paths.includes(expected), `${expected} is kept: ${paths}`);
    }
    assert.ok(paths.some((p) => /^\/web-[0-9a-f]{1,16}_bg\.wasm$/.test(p)), `the wasm is kept: ${paths}`);
    assert.ok(!paths.some((p) => p.startsWith('/api/')), `nothing of the API is kept: ${paths}`);
  });

  step('with no network, a reload opens the app from this device', async () => {
    await context.setOffline(true);
    try {
      await page.reload();
      await visible(page.getByRole('heading', { name: 'Dashboard' }));
      await visible(page.getByText('Offline', { exact: true }));
      await screenshot(page, viewport, 'offline-shell');
    } finally {
      await context.setOffline(false);
    }
    await page.reload();
    await visible(page.getByRole('heading', { name: 'Dashboard' }));
    await gone(page.getByText('Offline', { exact: true }));
    // The API answered from the network, never from the worker's caches.
    const { urls } = await kept();
    assert.ok(!urls.some((u) => new URL(u).pathname.startsWith('/api/')), `${urls}`);
  });

  step('a build deployed under the open page offers to reload into it', async () => {
    const before = (await kept()).names;
    // The deploy: a new service worker (a new build id) beside the same files.
    const worker = join(site, 'sw.js');
    const source = readFileSync(worker, 'utf8');
    const next = source.replace(/const BUILD = "([0-9a-f]{16})";/, (_, id) => `const BUILD = "${[...id].reverse().join('')}";`);
    assert.notEqual(next, source, 'the staged worker names its build');
    writeFileSync(worker, next);

    // The next page load finds the new worker; it installs and waits.
    await page.reload();
    await visible(page.getByRole('heading', { name: 'Dashboard' }));
    const prompt = page.getByRole('status').filter({ hasText: 'A new version is ready' });
    await visible(prompt, 15_000);
    await screenshot(page, viewport, 'update-ready');
    await prompt.getByRole('button', { name: 'Reload' }).click();
    await page.waitForFunction(
      (old) => caches.keys().then((names) => names.length === 1 && names[0] !== old),
      before[0],
      { timeout: 15_000 },
    );
    await visible(page.getByRole('heading', { name: 'Dashboard' }));
    await gone(page.getByText('A new version is ready'));
  });

  step('no file the app asked for answered 404 or the page instead', async () => {
    assert.ok(files.length > 3, JSON.stringify(files));
    for (const file of files) {
      assert.equal(file.status, 200, JSON.stringify(file));
      assert.ok(!file.type.startsWith('text/html'), JSON.stringify(file));
    }
    // An old build's file is really gone, not answered with the page.
    const old = await fetch(`${server.url}/web-0000000000000000.js`);
    assert.equal(old.status, 404);
    assert.ok(!(old.headers.get('content-type') || '').startsWith('text/html'));
  });
});
