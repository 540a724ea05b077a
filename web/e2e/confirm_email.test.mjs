// Confirming an address on a phone, against a real SMTP server on loopback (aiosmtpd): a
// new person's Settings ask them to confirm their address before the first digest; they
// send the confirmation email, open its link signed out as a mail app would, and confirm;
// Settings no longer ask. A link used once says so when opened again.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { freePort, gone, launchBrowser, screenshot, screenshotsDir, startServer, steps, visible } from './harness.mjs';

const PHONE = { width: 375, height: 740 };

/** aiosmtpd on a port of its own, writing what it receives to `dir` (api/tests/smtp_sink.py). */
async function startMailServer(dir) {
  const port = await freePort();
  const python = process.env.AIOSMTPD_PYTHON || 'python3';
  const child = spawn(python, [join(process.cwd(), '../../api/tests/smtp_sink.py'), String(port), dir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the SMTP server exited (${code}); is aiosmtpd installed?`)));
    child.stdout.on('data', (chunk) => {
      if (chunk.toString().includes('ready')) resolve();
    });
  });
  return { url: `smtp://127.0.0.1:${port}`, stop: () => child.kill() };
}

/** The mails received so far, as the mail server decoded them, oldest first. */
function mails(dir) {
  return readdirSync(dir)
    .filter((name) => /^\d+\.json$/.test(name))
    .sort((a, b) => parseInt(a, 10) - parseInt(b, 10))
    .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')));
}

describe('confirming an address on a phone', () => {
  let mailDir;
  let mail;
  let server;
  let browser;
  let context;
  let page;
  let link;
  const email = 'sam.confirm@example.com';
  const step = steps(test, () => page, 'phone', 'confirm-email');

  before(async () => {
    rmSync(join(screenshotsDir, 'phone-confirm-email-failure.png'), { force: true });
    mailDir = mkdtempSync(join(tmpdir(), 'hi-e2e-mail-'));
    mail = await startMailServer(mailDir);
    server = await startServer({ SMTP_URL: mail.url, MAIL_FROM: 'Home Inventory <reminders@example.com>' });
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: PHONE, baseURL: server.url });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
  });

  after(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
    mail?.stop();
    if (mailDir) rmSync(mailDir, { recursive: true, force: true });
  });

  step('a new person’s Settings ask them to confirm their address first', async () => {
    await page.goto('/signup');
    await page.getByLabel('Name').fill('Sam Confirm');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await visible(page.getByRole('heading', { name: 'Dashboard' }));
    await page.goto('/settings');
    await visible(page.getByRole('heading', { level: 1, name: 'Settings' }));
    await visible(page.getByRole('note').getByText(`Confirm that ${email} is your address before the first digest`));
    await gone(page.getByText('This server is not set up to send email'));
  });

  step('sends the confirmation email, which arrives with its link', async () => {
    await page.getByRole('button', { name: 'Send confirmation email' }).click();
    await visible(page.getByRole('status').getByText(`We sent a link to ${email}. Open it within 24 hours to confirm.`));
    await screenshot(page, 'phone', 'confirm-email-sent');
    let received = [];
    for (let i = 0; i < 100 && received.length === 0; i += 1) {
      received = mails(mailDir);
      if (received.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(received.length, 1, 'one mail');
    assert.deepEqual(received[0].envelope_to, [email]);
    assert.equal(received[0].subject, 'Confirm your address for Home Inventory reminders');
    link = received[0].text.match(/http:\/\/\S+\/confirm-email\/[A-Za-z0-9_-]{43}/)?.[0];
    assert.ok(link, received[0].text);
    assert.ok(link.startsWith(server.url), link);
  });

  step('opens the link signed out, as a mail app would, and confirms', async () => {
    const mailReader = await browser.newContext({ viewport: PHONE });
    try {
      const tab = await mailReader.newPage();
      await tab.goto(link);
      await visible(tab.getByRole('heading', { name: 'Confirm your address' }));
      // Opening the page confirmed nothing.
      const still = await (await page.request.get('/api/v1/me/reminders')).json();
      assert.equal(still.email_confirmed, false);
      await tab.getByRole('button', { name: 'Confirm my address' }).click();
      await visible(tab.getByRole('status').getByText(`${email} is confirmed: your reminder digest will go there.`));
      await screenshot(tab, 'phone', 'confirm-email-done');

      // The same link again: used, and it says so.
      await tab.goto(link);
      await tab.getByRole('button', { name: 'Confirm my address' }).click();
      await visible(tab.getByRole('alert').getByText(/not known, was used already or has expired/));
    } finally {
      await mailReader.close();
    }
  });

  step('Settings no longer ask', async () => {
    await page.reload();
    await visible(page.getByRole('checkbox', { name: 'Send me a reminder digest' }));
    await gone(page.getByRole('button', { name: 'Send confirmation email' }));
    const settings = await (await page.request.get('/api/v1/me/reminders')).json();
    assert.equal(settings.email_confirmed, true);
  });
});
