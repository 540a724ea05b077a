// The API docs page (`/api/docs`): the server's own OpenAPI document drawn by the Redoc it
// serves itself. With every request that leaves loopback refused, the page still shows the
// endpoints, and it never even tries to reach anything else (fonts, a CDN, telemetry).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { launchBrowser, screenshotsDir, startServer, visible } from './harness.mjs';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

test('the API docs show every endpoint, offline, from this server alone', async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const requested = [];
    const refused = [];
    // Anything but this machine is out of reach, as it would be without a network.
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      requested.push(url.href);
      if (url.protocol === 'data:' || url.protocol === 'blob:' || LOOPBACK.has(url.hostname)) {
        return route.continue();
      }
      refused.push(url.href);
      return route.abort('internetdisconnected');
    });
    const page = await context.newPage();
    const problems = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));

    const response = await page.goto(`${server.url}/api/docs`);
    assert.equal(response.status(), 200);
    const policy = response.headers()['content-security-policy'];
    assert.match(policy, /default-src 'none'/);
    assert.match(policy, /script-src 'self'(;|$)/);
    assert.match(policy, /connect-src 'self'(;|$)/);

    // The title of the document, then operations of several groups, by their summaries.
    await visible(page.getByRole('heading', { name: /Home Inventory API/ }), 20_000);
    for (const name of ['List items', 'Create an item', 'Sign in', 'Make an invitation link']) {
      // Each operation is a heading (whose accessible name Redoc extends with its anchor).
      await visible(page.locator('h2', { hasText: new RegExp(`^${name}\\s*$`) }));
    }
    // The menu leads to an operation, which shows its parameters.
    await page.getByRole('menuitem', { name: 'Items', exact: true }).click();
    await page.getByRole('menuitem', { name: 'Edit an item', exact: true }).click();
    await visible(page.getByText('If-Match', { exact: true }).first());
    // Search (which runs in a worker) finds operations by their words.
    const search = page.getByRole('search');
    await search.getByRole('textbox', { name: 'Search' }).fill('trash');
    await visible(search.getByRole('menuitem', { name: 'Empty the trash', exact: true }));
    assert.equal(await search.getByRole('menuitem', { name: 'List items', exact: true }).count(), 0);
    // The page is tens of thousands of pixels tall: the screen as it is, not all of it.
    mkdirSync(screenshotsDir, { recursive: true });
    await page.screenshot({ path: join(screenshotsDir, 'desktop-api-docs.png') });

    assert.deepEqual(refused, [], `the page tried to reach beyond this machine: ${refused}`);
    assert.ok(
      requested.some((url) => url.endsWith('/api/v1/openapi.json')),
      `the document was not read from this server: ${requested}`,
    );
    assert.deepEqual(problems, [], `the page reported errors: ${problems.join('\n')}`);

    // The viewer comes gzipped and is cached for good: its name carries its version.
    const viewer = requested.find((url) => /\/api\/docs\/redoc-[0-9.]+\.js$/.test(url));
    assert.ok(viewer, `Redoc was not loaded from this server: ${requested}`);
    const fetched = await fetch(viewer, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(fetched.status, 200);
    assert.equal(fetched.headers.get('content-encoding'), 'gzip');
    assert.match(fetched.headers.get('cache-control'), /max-age=31536000, immutable/);
    await fetched.arrayBuffer();
  } finally {
    await browser.close();
    await server.stop();
  }
});
