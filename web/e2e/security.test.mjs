// Account security: two-factor sign-in set up from the Security page with an authenticator
// app (its codes computed here from the key the page shows, with node:crypto), then needed at
// sign-in; recovery codes shown once, copied, downloaded and good once each; the signed-in
// devices listed, another one signed out and refused on its next request; and two-factor
// turned off again. Once at desktop size and once on a phone.

import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { gone, launchBrowser, screenshot, screenshotsDir, startServer, steps, visible } from './harness.mjs';
import { base32, totp } from './totp.mjs';

const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 375, height: 740 },
};

// HI_VIEWPORT=phone runs one of them only.
const chosen = Object.entries(VIEWPORTS).filter(
  ([name]) => !process.env.HI_VIEWPORT || process.env.HI_VIEWPORT === name,
);

for (const [viewport, size] of chosen) {
  describe(`Account security on a ${viewport} (${size.width}x${size.height})`, () => {
    let server;
    let browser;
    let context;
    let page;
    let other;
    let key;
    let codes = [];
    const email = `sam.${viewport}@example.com`;
    const password = 'correct horse battery';
    const step = steps(test, () => page, viewport, 'security');

    const devices = () => page.getByRole('list', { name: 'Signed-in devices' });
    const alert = () => page.getByRole('alert');

    async function signOut(p = page) {
      await p.getByRole('button', { name: 'Account' }).click();
      await p.getByRole('button', { name: 'Sign out' }).click();
      await visible(p.getByRole('heading', { name: 'Sign in', exact: true }));
    }

    /** Signs in on `p` with the password, then `code` once the page asks for one. */
    async function signIn(p, code) {
      if (new URL(p.url()).pathname !== '/signin') await p.goto('/signin');
      await p.getByLabel('Email').fill(email);
      await p.getByLabel('Password').fill(password);
      await p.getByRole('button', { name: 'Sign in', exact: true }).click();
      const field = p.getByLabel('Authentication code');
      await visible(field);
      assert.equal(await field.getAttribute('inputmode'), 'numeric');
      assert.equal(await field.getAttribute('autocomplete'), 'one-time-code');
      await field.fill(code);
      await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    }

    /** Opens Security from the account menu, or reads it afresh when it is open already. */
    async function openSecurity() {
      if (new URL(page.url()).pathname === '/security') {
        await page.reload();
      } else {
        await page.getByRole('button', { name: 'Account' }).click();
        await page.getByRole('link', { name: 'Security' }).click();
      }
      await visible(page.getByRole('heading', { level: 1, name: 'Security' }));
    }

    before(async () => {
      rmSync(join(screenshotsDir, `${viewport}-security-failure.png`), { force: true });
      server = await startServer();
      browser = await launchBrowser();
      context = await browser.newContext({ viewport: size, baseURL: server.url, acceptDownloads: true });
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
      context.setDefaultTimeout(10_000);
      page = await context.newPage();
    });

    after(async () => {
      await other?.context().close().catch(() => {});
      await context?.close().catch(() => {});
      await browser?.close().catch(() => {});
      await server?.stop();
    });

    step('a new person signs up and opens Security from the account menu', async () => {
      await page.goto('/signup');
      await visible(page.getByRole('heading', { name: 'Create your account' }));
      await page.getByLabel('Name').fill('Sam Rivera');
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Create account' }).click();
      await visible(page.getByRole('heading', { name: 'Dashboard' }));
      await openSecurity();
      assert.equal(new URL(page.url()).pathname, '/security');
      await visible(page.getByRole('heading', { level: 2, name: 'Two-factor sign-in' }));
      await visible(page.getByRole('heading', { level: 2, name: 'Passkeys' }));
      await visible(page.getByRole('heading', { level: 2, name: 'Signed-in devices' }));
      await visible(devices().getByText('This device'));
      assert.equal(await devices().getByRole('listitem').count(), 1);
    });

    step('sets up two-factor sign-in with the password, the QR code and a code from the app', async () => {
      await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
      await page.getByLabel('Password').fill('not my password');
      await page.getByRole('button', { name: 'Continue' }).click();
      await visible(page.getByText('Password is not right.', { exact: true }));

      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Continue' }).click();
      const qr = page.getByRole('img', { name: /QR code/ });
      await visible(qr);
      assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml,/);
      // The QR code drew: an image of its full size.
      assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0));
      await screenshot(page, viewport, 'security-setup');
      key = base32(await page.getByLabel('Setup key').innerText());
      assert.equal(key.length, 20);

      const field = page.getByLabel('Code from the app');
      assert.equal(await field.getAttribute('autocomplete'), 'one-time-code');
      const stale = totp(key, Date.now() / 1000 - 120);
      await field.fill(stale === totp(key) ? '000000' : stale);
      await page.getByRole('button', { name: 'Turn on' }).click();
      await visible(page.locator('#two-factor-code-error').getByText(/^Code is not right/));
      // The code of the step before (a phone's clock a little behind), so that the current
      // one is still unused for the sign-in below.
      await field.fill(totp(key, Date.now() / 1000 - 30));
      await page.getByRole('button', { name: 'Turn on' }).click();
      await visible(page.getByRole('heading', { name: 'Save these now' }));
    });

    step('shows the recovery codes once, to copy or download', async () => {
      const list = page.getByRole('list', { name: 'Recovery codes' });
      codes = (await list.getByRole('listitem').allInnerTexts()).map((c) => c.trim());
      assert.equal(codes.length, 10);
      for (const code of codes) assert.match(code, /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
      await visible(page.getByText("Save these recovery codes now: they won't be shown again."));

      await page.getByRole('button', { name: 'Copy', exact: true }).click();
      await visible(page.getByRole('status').getByText('Recovery codes copied.'));
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      assert.deepEqual(copied.split('\n'), codes);

      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Download' }).click(),
      ]);
      assert.equal(download.suggestedFilename(), 'home-inventory-recovery-codes.txt');
      const text = readFileSync(await download.path(), 'utf8');
      for (const code of codes) assert.ok(text.includes(code), `${code} in the file`);
      await screenshot(page, viewport, 'security-recovery-codes');

      await page.getByRole('button', { name: 'Done' }).click();
      await gone(page.getByRole('list', { name: 'Recovery codes' }));
      await visible(page.getByText('10 recovery codes left.'));
      await visible(page.getByRole('button', { name: 'Make new recovery codes' }));
    });

    step('signing in then asks for the code, and a wrong one is said at the field', async () => {
      await signOut();
      const current = totp(key);
      await signIn(page, current === '000000' ? '111111' : '000000');
      await visible(page.getByText('The code is not right.'));
      await visible(page.getByRole('heading', { name: 'Sign in', exact: true }));
      await page.getByLabel('Authentication code').fill(totp(key));
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      // Back where the person signed out.
      await visible(page.getByRole('heading', { level: 1, name: 'Security' }));
    });

    step('a recovery code signs in once', async () => {
      await signOut();
      await signIn(page, codes[0]);
      await visible(page.getByRole('button', { name: 'Account' }));
      await signOut();
      await signIn(page, codes[0]);
      await visible(page.getByText('The code is not right.'));
      await page.getByLabel('Authentication code').fill(codes[1]);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await visible(page.getByRole('button', { name: 'Account' }));
    });

    step('lists a second browser, signs it out, and that browser is refused at once', async () => {
      const second = await browser.newContext({ viewport: size, baseURL: server.url });
      second.setDefaultTimeout(10_000);
      other = await second.newPage();
      await other.goto('/signin');
      await signIn(other, codes[2]);
      await visible(other.getByRole('button', { name: 'Account' }));

      await openSecurity();
      await visible(page.getByText('7 recovery codes left.'));
      await visible(devices().getByRole('listitem').nth(1));
      assert.equal(await devices().getByRole('listitem').count(), 2);
      await visible(devices().getByText('This device'));
      const signOutOther = devices().getByRole('button', { name: 'Sign out Chrome on Linux' });
      await visible(signOutOther);
      assert.equal(await devices().getByRole('button', { name: /^Sign out/ }).count(), 1);
      await screenshot(page, viewport, 'security-devices');
      await signOutOther.click();
      await visible(page.getByText('Signed out Chrome on Linux'));
      await gone(devices().getByRole('listitem').nth(1));

      // The other browser's next request is refused, and it is back at the sign-in page.
      await other.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Items', exact: true }).click();
      await visible(other.getByRole('heading', { name: 'Sign in', exact: true }));
    });

    step('signs out everywhere else', async () => {
      await signIn(other, codes[3]);
      await visible(other.getByRole('button', { name: 'Account' }));
      await page.reload();
      await visible(devices().getByRole('listitem').nth(1));
      await page.getByRole('button', { name: 'Sign out everywhere else' }).click();
      await visible(page.getByText('Signed out 1 other device'));
      await gone(devices().getByRole('listitem').nth(1));
      await gone(page.getByRole('button', { name: 'Sign out everywhere else' }));
      await other.reload();
      await visible(other.getByRole('heading', { name: 'Sign in', exact: true }));
    });

    step('turns two-factor sign-in off with the password', async () => {
      await page.getByRole('button', { name: 'Turn off' }).click();
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Turn off' }).click();
      await visible(page.getByRole('button', { name: 'Set up two-factor sign-in' }));
      await gone(alert());
      // Signing in needs the password only again.
      await signOut();
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await visible(page.getByRole('button', { name: 'Account' }));
    });

    step('fits the screen without scrolling sideways', async () => {
      await openSecurity();
      const [scroll, client] = await page.evaluate(() => [
        document.documentElement.scrollWidth,
        document.documentElement.clientWidth,
      ]);
      assert.ok(scroll <= client, `the page is ${scroll}px wide in a ${client}px window`);
      await screenshot(page, viewport, 'security');
    });
  });
}
