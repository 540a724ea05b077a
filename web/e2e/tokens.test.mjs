// Personal API tokens: made on the "API tokens" page of the account menu, shown once with a
// way to copy them, used by a program (Node's fetch here), and revoked after a confirmation.
// Once at desktop size and once on a phone.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { gone, launchBrowser, screenshot, screenshotsDir, startServer, steps, visible } from './harness.mjs';

const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 375, height: 740 },
};

// HI_VIEWPORT=phone runs one of them only.
const chosen = Object.entries(VIEWPORTS).filter(
  ([name]) => !process.env.HI_VIEWPORT || process.env.HI_VIEWPORT === name,
);

const TOKEN_PATTERN = /^hinv_[0-9A-Za-z]{36}$/;

for (const [viewport, size] of chosen) {
  describe(`API tokens on a ${viewport} (${size.width}x${size.height})`, () => {
    let server;
    let browser;
    let context;
    let page;
    let token;
    // The steps build on each other: after one fails, the rest are skipped.
    const step = steps(test, () => page, viewport, 'tokens');

    /** A request from a program holding `secret`, as a script would send it. */
    const api = (path, { method = 'GET', body, secret = token } = {}) =>
      fetch(`${server.url}/api/v1${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${secret}`,
          ...(body ? { 'Content-Type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });

    const tokenList = () => page.getByRole('list', { name: 'API tokens' });

    before(async () => {
      rmSync(join(screenshotsDir, `${viewport}-tokens-failure.png`), { force: true });
      server = await startServer();
      browser = await launchBrowser();
      context = await browser.newContext({ viewport: size, baseURL: server.url });
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
      context.setDefaultTimeout(10_000);
      page = await context.newPage();
    });

    after(async () => {
      await context?.close().catch(() => {});
      await browser?.close().catch(() => {});
      await server?.stop();
    });

    step('a new person signs up', async () => {
      await page.goto('/signup');
      await visible(page.getByRole('heading', { name: 'Create your account' }));
      await page.getByLabel('Name').fill('Robin Park');
      await page.getByLabel('Email').fill(`robin.${viewport}@example.com`);
      await page.getByLabel('Password').fill('correct horse battery');
      await page.getByRole('button', { name: 'Create account' }).click();
      await visible(page.getByRole('heading', { name: 'Dashboard' }));
    });

    step('opens API tokens from the account menu, beside the API docs', async () => {
      const account = page.getByRole('button', { name: 'Account' });
      assert.equal(await account.getAttribute('aria-expanded'), 'false');
      await account.click();
      assert.equal(await account.getAttribute('aria-expanded'), 'true');
      const docs = page.getByRole('link', { name: 'API docs', exact: true });
      await visible(docs);
      assert.equal(await docs.getAttribute('href'), '/api/docs');
      await visible(page.getByRole('button', { name: 'Sign out' }));
      // Escape closes the menu and leaves the focus on its button.
      await page.keyboard.press('Escape');
      await gone(docs);
      assert.equal(await account.evaluate((el) => el === document.activeElement), true);

      await account.click();
      await page.getByRole('link', { name: 'API tokens' }).click();
      await visible(page.getByRole('heading', { level: 1, name: 'API tokens' }));
      assert.equal(await page.title(), 'API tokens · Home Inventory');
      assert.equal(new URL(page.url()).pathname, '/tokens');
      await gone(docs);
      await visible(page.getByText('No tokens yet'));
    });

    step('explains a name or expiry that will not do before sending anything', async () => {
      await page.getByLabel('Expires after (days)').fill('400');
      await page.getByRole('button', { name: 'Create token' }).click();
      await visible(page.getByText('Name is required.'));
      await visible(page.getByText('Expiry must be a whole number of days from 1 to 366.'));
      assert.equal(await page.getByLabel('Expires after (days)').getAttribute('aria-invalid'), 'true');
      await visible(page.getByText('No tokens yet'));
    });

    step('creates a read-only token and shows it once, with a way to copy it', async () => {
      await page.getByLabel('Name', { exact: true }).fill('Node script');
      const readOnly = page.getByRole('radio', { name: 'Read only' });
      const readWrite = page.getByRole('radio', { name: 'Read and write' });
      // Read only is the default; a click on the other and back shows they are one group.
      assert.equal(await readOnly.isChecked(), true);
      await readWrite.check();
      assert.equal(await readOnly.isChecked(), false);
      await readOnly.check();
      const households = page.getByLabel('Households it can use', { exact: true });
      assert.equal(await households.evaluate((el) => el.selectedOptions[0].textContent), 'All my households');
      await page.getByLabel('Expires after (days)').fill('30');
      await page.getByRole('button', { name: 'Create token' }).click();

      const secret = page.getByLabel('Your new token “Node script”');
      await visible(secret);
      token = await secret.inputValue();
      assert.match(token, TOKEN_PATTERN);
      assert.equal(await secret.isEditable(), false, 'the token field is read-only');
      await visible(page.getByText("Copy it now: it won't be shown again."));
      await page.getByRole('button', { name: 'Copy token' }).click();
      await visible(page.getByRole('status').getByText(/Token copied|The token is selected/));
      const copied = await page.evaluate(() => navigator.clipboard.readText().catch(() => null));
      if (copied !== null) assert.equal(copied, token);

      const row = tokenList().getByRole('listitem').filter({ hasText: 'Node script' });
      await visible(row);
      await visible(row.getByText(`Read only · All households · ends …${token.slice(-4)}`));
      await visible(row.getByText(/last used never/));
      await screenshot(page, viewport, 'tokens');

      // Away and back: the token is listed, its secret is gone for good.
      await page.goto('/');
      await visible(page.getByRole('heading', { name: 'Dashboard' }));
      await page.goto('/tokens');
      await visible(row);
      await gone(page.getByLabel('Your new token “Node script”'));
      assert.equal(await page.getByText(token).count(), 0);
    });

    step('a program reads with it, and its writes are refused', async () => {
      const me = await api('/me');
      assert.equal(me.status, 200);
      const { households } = await me.json();
      const items = `/households/${households[0].id}/items`;

      const list = await api(items);
      assert.equal(list.status, 200);
      assert.deepEqual((await list.json()).items, []);

      const write = await api(items, { method: 'POST', body: { name: 'Lamp' } });
      assert.equal(write.status, 403);
      const refusal = await write.json();
      assert.equal(refusal.error.code, 'forbidden');
      assert.match(refusal.error.message, /only read/);

      // Its use shows on the page.
      await page.reload();
      const row = tokenList().getByRole('listitem').filter({ hasText: 'Node script' });
      await visible(row.getByText(/last used just now/));
    });

    step('revokes it after a confirmation, and the program is refused from then on', async () => {
      const row = tokenList().getByRole('listitem').filter({ hasText: 'Node script' });
      const revoke = row.getByRole('button', { name: 'Revoke Node script' });
      await revoke.click();
      const confirm = page.getByRole('group', { name: /Revoke “Node script”\?/ });
      await visible(confirm);
      assert.equal(await revoke.getAttribute('aria-expanded'), 'true');
      await confirm.getByRole('button', { name: 'Cancel' }).click();
      await gone(confirm);
      assert.equal((await api('/me')).status, 200, 'cancelling revokes nothing');

      await revoke.click();
      await page.getByRole('group', { name: /Revoke “Node script”\?/ }).getByRole('button', { name: 'Revoke token' }).click();
      await gone(row);
      await visible(page.getByText('No tokens yet'));

      const refused = await api('/me');
      assert.equal(refused.status, 401);
      assert.equal(refused.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
      assert.equal((await refused.json()).error.code, 'unauthorized');
      // The person's own session is untouched.
      await page.reload();
      await visible(page.getByRole('heading', { level: 1, name: 'API tokens' }));
    });
  });
}
