// Google sign-in in a real browser, against an OpenID provider on loopback
// (api/tests/oidc, which `cargo xtask test` installs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { launchBrowser, screenshot, startServer, visible } from './harness.mjs';

const providerDir = fileURLToPath(new URL('../../api/tests/oidc/', import.meta.url));

async function startProvider() {
  const child = spawn('node', ['provider.mjs'], { cwd: providerDir, stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk.toString();
      const end = buffer.indexOf('\n');
      if (end >= 0) resolve(buffer.slice(0, end));
    });
    child.once('exit', (code) => reject(new Error(`the OpenID provider exited with ${code}`)));
  });
  const { issuer, control } = JSON.parse(line);
  return {
    issuer,
    set: (path, body) => fetch(control + path, { method: 'POST', body: JSON.stringify(body) }),
    stop: () => child.kill(),
  };
}

test('signs in with Google, and says why when Google cannot vouch for the account', async () => {
  const provider = await startProvider();
  // The server's PUBLIC_URL is its own address: Google's answer comes back there.
  const server = await startServer({
    GOOGLE_CLIENT_ID: 'home-inventory',
    GOOGLE_CLIENT_SECRET: 'browser test secret',
    GOOGLE_ISSUER: provider.issuer,
  });
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/items`);
    // Signed out, the app asks to sign in; Google is offered next to the form.
    const google = page.getByRole('link', { name: 'Sign in with Google' });
    await visible(google);
    await visible(page.getByLabel('Email'));
    await screenshot(page, 'desktop', 'sign-in-google');
    await google.click();
    // The provider vouches at once and the browser comes back where it was going.
    await visible(page.getByRole('heading', { name: 'Items', exact: true }));
    assert.match(page.url(), /\/items$/);
    await visible(page.getByText('Ann Example'));

    await page.getByRole('button', { name: 'Account' }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await visible(page.getByRole('link', { name: 'Sign in with Google' }));
    await provider.set('/claims', { email_verified: false });
    await page.getByRole('link', { name: 'Sign in with Google' }).click();
    const alert = page.getByRole('alert');
    await visible(alert);
    assert.match(await alert.innerText(), /hasn't verified this account's email address/);
    assert.match(page.url(), /\/signin\?error=email_unverified$/);
    await visible(page.getByRole('button', { name: 'Sign in', exact: true }));
  } finally {
    await browser.close();
    await server.stop();
    provider.stop();
  }
});
