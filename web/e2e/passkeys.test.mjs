// Passkeys with Chromium's virtual authenticator (CDP `WebAuthn.addVirtualAuthenticator`):
// one added from the Security page, then a sign-in with it and no password typed, renamed,
// removed, and refused once removed. On a phone. WebAuthn needs a secure context and a domain
// for the relying party: the server's PUBLIC_URL and the page are http://localhost:<port>.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, screenshot, screenshotsDir, startServer, steps, visible, gone } from './harness.mjs';
import { base32, totp } from './totp.mjs';

const viewport = 'phone';
const size = { width: 375, height: 740 };

describe(`Passkeys on a ${viewport} (${size.width}x${size.height})`, () => {
  let server;
  let base;
  let browser;
  let context;
  let page;
  let cdp;
  let authenticatorId;
  const step = steps(test, () => page, viewport, 'passkeys');

  const passkeyList = () => page.getByRole('list', { name: 'Your passkeys' });
  const credentials = async () =>
    (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;

  const signOut = async () => {
    await page.getByRole('button', { name: 'Account' }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await visible(page.getByRole('heading', { name: 'Sign in', exact: true }));
  };

  before(async () => {
    rmSync(join(screenshotsDir, `${viewport}-passkeys-failure.png`), { force: true });
    server = await startServer((port) => ({ PUBLIC_URL: `http://localhost:${port}` }));
    base = server.url.replace('127.0.0.1', 'localhost');
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: size, baseURL: base });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
    cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    }));
  });

  after(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  step('a new person signs up and opens Security from the account menu', async () => {
    await page.goto('/signup');
    await visible(page.getByRole('heading', { name: 'Create your account' }));
    await page.getByLabel('Name').fill('Kim Lee');
    await page.getByLabel('Email').fill('kim@example.com');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await visible(page.getByRole('heading', { name: 'Dashboard' }));
    await page.getByRole('button', { name: 'Account' }).click();
    await page.getByRole('link', { name: 'Security' }).click();
    await visible(page.getByRole('heading', { name: 'Passkeys' }));
    await visible(page.getByText('No passkeys yet.'));
  });

  step('adds a passkey named after the browser', async () => {
    const name = page.getByLabel('Passkey name');
    assert.equal(await name.inputValue(), 'Passkey on Chrome');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await visible(passkeyList().getByText('Passkey on Chrome'));
    assert.match(await passkeyList().textContent(), /last used never/);
    const stored = await credentials();
    assert.equal(stored.length, 1);
    assert.equal(stored[0].isResidentCredential, true);
    await screenshot(page, viewport, 'passkeys-added');
  });

  step('signs out and back in with the passkey, typing no password', async () => {
    await signOut();
    await screenshot(page, viewport, 'passkeys-sign-in');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    // Signed in, back where they were.
    await visible(page.getByRole('button', { name: 'Account' }));
    await gone(page.getByRole('heading', { name: 'Sign in', exact: true }));
    assert.equal(await page.getByLabel('Password').count(), 0);
    await page.goto('/security');
    await visible(passkeyList().getByText('Passkey on Chrome'));
    assert.doesNotMatch(await passkeyList().textContent(), /last used never/);
  });

  step('renames the passkey', async () => {
    await page.getByRole('button', { name: 'Rename Passkey on Chrome' }).click();
    const field = page.getByLabel('New name');
    await field.fill('Kim’s phone');
    await page.getByRole('button', { name: 'Save name' }).click();
    await visible(passkeyList().getByText('Kim’s phone'));
    await gone(page.getByLabel('New name'));
    await page.reload();
    await visible(passkeyList().getByText('Kim’s phone'));
  });

  step('turns two-factor sign-in off with the passkey instead of the password', async () => {
    /** A call to the API from the page, with its cookie, as the app makes them. */
    const call = (path, body) =>
      page.evaluate(
        async ([path, body]) => {
          const r = await fetch(`/api/v1${path}`, {
            method: body ? 'POST' : 'GET',
            headers: { 'Content-Type': 'application/json' },
            body: body ? JSON.stringify(body) : undefined,
          });
          return { status: r.status, body: await r.json() };
        },
        [path, body],
      );
    // Two-factor on, as an authenticator app would have it.
    const setup = await call('/me/two-factor/setup', { password: 'correct horse battery' });
    assert.equal(setup.status, 200);
    const enabled = await call('/me/two-factor/enable', { code: totp(base32(setup.body.secret)) });
    assert.equal(enabled.status, 200);
    await page.reload();
    await page.getByRole('button', { name: 'Turn off', exact: true }).click();
    await page.getByRole('button', { name: 'Turn off with a passkey' }).click();
    await visible(page.getByRole('button', { name: 'Set up two-factor sign-in' }));
    assert.equal((await call('/me/two-factor')).body.enabled, false);
  });

  step('a sign-in cancelled in the browser changes nothing, calmly', async () => {
    await signOut();
    await page.evaluate(() => {
      // What a person closing the passkey dialog makes the browser answer.
      navigator.credentials.get = () =>
        Promise.reject(new DOMException('The operation either timed out or was not allowed.', 'NotAllowedError'));
    });
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await visible(page.getByRole('status').getByText('No passkey was used: the request was cancelled. Nothing changed.'));
    await visible(page.getByRole('heading', { name: 'Sign in', exact: true }));
  });

  step('signs in with the password and removes the passkey after confirming', async () => {
    await page.reload();
    await page.getByLabel('Email').fill('kim@example.com');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await visible(page.getByRole('button', { name: 'Account' }));
    await page.goto('/security');
    await page.getByRole('button', { name: 'Remove Kim’s phone' }).click();
    await page.getByRole('button', { name: 'Remove passkey' }).click();
    await visible(page.getByText('No passkeys yet.'));
    const scrolls = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(scrolls, false, 'no sideways scrolling on a phone');
    await screenshot(page, viewport, 'passkeys-removed');
  });

  step('a removed passkey no longer signs in', async () => {
    // The authenticator still holds it; the server has forgotten it.
    assert.equal((await credentials()).length, 1);
    await signOut();
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await visible(page.getByRole('alert').getByText(/that passkey could not sign you in/i));
    await visible(page.getByRole('heading', { name: 'Sign in', exact: true }));
  });
});
