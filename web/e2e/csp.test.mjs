// The app under its own Content-Security-Policy: every page opens and works in Chromium with
// no violation reported (the boot script is a file, the WebAssembly may compile, no inline
// styles), the pages carry the security headers, and a script someone manages to put into
// a page does not run. On a phone-sized screen.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, screenshotsDir, startServer, steps, visible } from './harness.mjs';

const PHONE = { width: 375, height: 740 };

// A 1×1 PNG: a photo for the item, so pages show a picture served by the API.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

describe('the app under its Content-Security-Policy (phone)', () => {
  let server;
  let browser;
  let context;
  let page;
  /** What the browser reported: `securitypolicyviolation` events and console complaints. */
  let violations = [];
  let household;
  let item;
  let location;
  const step = steps(test, () => page, 'phone', 'csp');

  /** Opens `path`, waits for its heading, and returns the document's answer. */
  async function open(path, heading) {
    const answer = await page.goto(path);
    await visible(page.getByRole('heading', { level: 1, name: heading }).first(), 15_000);
    // Whatever the page loads once shown (pictures, workers) has had its chance to be refused.
    await page.waitForTimeout(400);
    return answer;
  }

  async function pageViolations() {
    return page.evaluate(() => window.__violations || []);
  }

  /** The page's own reports and the console's, together, then forgotten. */
  async function takeViolations() {
    const all = [...violations, ...(await pageViolations())];
    violations = [];
    await page.evaluate(() => {
      window.__violations = [];
    });
    return all;
  }

  /** A call to the API from the page, with its cookie, as the app makes them. */
  const api = (path, init = {}) =>
    page.evaluate(
      async ([path, init]) => {
        const r = await fetch(`/api/v1${path}`, {
          ...init,
          headers: { 'Content-Type': 'application/json', ...(init.headers || {}) },
        });
        return { status: r.status, body: r.status === 204 ? null : await r.json() };
      },
      [path, init],
    );

  before(async () => {
    rmSync(join(screenshotsDir, 'phone-csp-failure.png'), { force: true });
    server = await startServer();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: PHONE, baseURL: server.url });
    context.setDefaultTimeout(10_000);
    // Injected by the browser itself, so the policy does not apply to it.
    await context.addInitScript(() => {
      window.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => {
        window.__violations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
      });
    });
    page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
  });

  after(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  step('the sign-in and sign-up pages run under the policy and carry the headers', async () => {
    const answer = await open('/signin', 'Sign in');
    const headers = answer.headers();
    const csp = headers['content-security-policy'];
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval';/);
    assert.match(csp, /style-src 'self';/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(headers['x-content-type-options'], 'nosniff');
    assert.equal(headers['x-frame-options'], 'DENY');
    assert.equal(headers['referrer-policy'], 'no-referrer');
    // The page starts the app from a script file: nothing inline is left in it.
    const inline = await page.evaluate(
      () => [...document.querySelectorAll('script')].filter((s) => !s.src && s.textContent.trim()).length,
    );
    assert.equal(inline, 0);
    await open('/signup', 'Create your account');
    assert.deepEqual(await takeViolations(), []);
  });

  step('a new person signs up and fills the household in', async () => {
    await page.getByLabel('Name').fill('Casey Lin');
    await page.getByLabel('Email').fill('casey.csp@example.com');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await visible(page.getByRole('heading', { name: 'Dashboard' }));
    const me = await api('/me');
    household = me.body.households[0].id;
    const garage = await api(`/households/${household}/locations`, {
      method: 'POST',
      body: JSON.stringify({ name: 'Garage' }),
    });
    assert.equal(garage.status, 201);
    location = garage.body.id;
    const drill = await api(`/households/${household}/items`, {
      method: 'POST',
      body: JSON.stringify({
        name: 'Cordless drill',
        location_id: location,
        purchase_price: { amount_minor: 12900, currency: 'USD' },
      }),
    });
    assert.equal(drill.status, 201);
    item = drill.body.id;
    // A photo, uploaded the way the app does it: announced, sent, completed.
    const base = `/households/${household}/items/${item}/attachments`;
    const announced = await api(base, {
      method: 'POST',
      body: JSON.stringify({ kind: 'photo', filename: 'drill.png', content_type: 'image/png', size: PNG.length }),
    });
    assert.equal(announced.status, 201);
    const sent = await page.evaluate(
      async ([upload, bytes]) => {
        const r = await fetch(upload.url, {
          method: upload.method,
          headers: upload.headers,
          body: new Uint8Array(bytes),
        });
        return r.status;
      },
      [announced.body.upload, [...PNG]],
    );
    assert.ok(sent < 300, `upload: ${sent}`);
    const done = await api(`${base}/${announced.body.id}/complete`, { method: 'POST' });
    assert.equal(done.status, 200);
  });

  step('every page of the app opens with no violation', async () => {
    const pages = [
      ['/', 'Dashboard'],
      ['/items', 'Items'],
      ['/items/new', 'Add item'],
      [`/items/${item}`, 'Cordless drill'],
      [`/items/${item}/edit`, 'Edit item'],
      ['/locations', 'Locations'],
      [`/locations/${location}`, 'Garage'],
      ['/scan', 'Scan'],
      [`/labels?items=${item}`, 'Print labels'],
      ['/capture', 'Capture'],
      ['/trash', 'Trash'],
      ['/members', 'Members'],
      ['/households/new', 'New household'],
      ['/import-export', 'Import & export'],
      ['/reports', 'Reports'],
      ['/tokens', 'API tokens'],
      ['/security', 'Security'],
      ['/share-links', 'Share links'],
      ['/waiting', 'Waiting changes'],
      ['/no-such-page', 'Nothing here'],
    ];
    const found = {};
    for (const [path, heading] of pages) {
      await open(path, heading);
      const seen = await takeViolations();
      if (seen.length) found[path] = [...new Set(seen.map((v) => v.slice(0, 160)))];
    }
    assert.deepEqual(found, {}, 'violations, by page');
    // The item's photo was shown, from the API, under the policy.
    await open(`/items/${item}`, 'Cordless drill');
    const shown = page.locator('img[src*="/api/v1/blobs/"]').first();
    await visible(shown);
    assert.ok(await shown.evaluate((img) => img.complete && img.naturalWidth > 0), 'the photo loaded');
    assert.deepEqual(await takeViolations(), []);
  });

  step("the two-factor QR code and a share link's view run under the policy too", async () => {
    await open('/security', 'Security');
    await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Continue' }).click();
    const qr = page.getByRole('img', { name: /QR code/ });
    await visible(qr);
    assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR code drew');

    const link = await api(`/households/${household}/share-links`, {
      method: 'POST',
      body: JSON.stringify({ name: 'Insurer', location_id: location }),
    });
    assert.equal(link.status, 201);
    await page.goto(link.body.url);
    await visible(page.getByRole('heading', { level: 1, name: /Garage/ }), 15_000);
    await visible(page.getByText('Cordless drill').first());
    // The photo comes through the link (a redirect to the file's signed address).
    const photo = page.locator('img[src*="/api/v1/shared/"]').first();
    await visible(photo);
    await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await photo.elementHandle());
    assert.deepEqual(await takeViolations(), []);
  });

  step('the API docs run under their own policy', async () => {
    await page.goto('/api/docs');
    await visible(page.getByText('Home Inventory API').first(), 20_000);
    await page.waitForTimeout(400);
    assert.deepEqual(await takeViolations(), []);
  });

  step('a script put into a page does not run, and is reported', async () => {
    await open('/items', 'Items');
    const ran = await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__stolen = document.cookie || "ran"';
      document.body.append(script);
      const img = document.createElement('img');
      img.setAttribute('src', 'https://evil.example/pixel.png');
      document.body.append(img);
      return window.__stolen;
    });
    assert.equal(ran, undefined, 'the injected script ran');
    await page.waitForTimeout(300);
    const reported = await takeViolations();
    assert.ok(reported.some((v) => v.startsWith('script-src')), reported.join('\n'));
    assert.ok(reported.some((v) => v.startsWith('img-src') && v.includes('evil.example')), reported.join('\n'));
  });

  step('the app cannot be framed by another site', async () => {
    const framer = await context.newPage();
    await framer.setContent(`<iframe src="${server.url}/items" title="framed"></iframe>`);
    await framer.waitForTimeout(1000);
    const frame = framer.frames().find((f) => f.url().startsWith(server.url));
    const heading = frame ? await frame.locator('h1').count().catch(() => 0) : 0;
    assert.equal(heading, 0, 'the app rendered inside a frame');
    await framer.close();
  });
});
