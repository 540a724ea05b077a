// Settings on a phone: a person changes their reminder digest to weekly, at another hour, in
// another time zone, and finds it so after a reload; copies the calendar feed's address, which
// serves an iCalendar feed without a cookie, and resets it, after which the old address
// answers 404 and the new one serves the feed; then opens the unsubscribe link of a reminder
// mail signed out and turns reminder emails off, and Settings shows them off.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { gone, launchBrowser, screenshot, screenshotsDir, startServer, steps, visible } from './harness.mjs';

const PHONE = { width: 375, height: 740 };

/** The secret of the unsubscribe link the person's reminder mail carries. */
function unsubscribeSecret(dataDir, email) {
  const script = `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
row = db.execute(
    "SELECT r.unsubscribe_secret FROM reminder_settings r JOIN users u ON u.id = r.user_id WHERE u.email = ?",
    (sys.argv[2],),
).fetchone()
print(row[0])
`;
  return execFileSync('python3', ['-c', script, join(dataDir, 'home-inventory.db'), email]).toString().trim();
}

describe('reminder settings and the calendar feed on a phone', () => {
  let server;
  let browser;
  let context;
  let page;
  let dataDir;
  let feedUrl;
  const email = 'sam.reminders@example.com';
  const step = steps(test, () => page, 'phone', 'reminders-settings');

  before(async () => {
    rmSync(join(screenshotsDir, 'phone-reminders-settings-failure.png'), { force: true });
    dataDir = mkdtempSync(join(tmpdir(), 'hi-e2e-reminders-'));
    server = await startServer({ DATA_DIR: dataDir });
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: PHONE, baseURL: server.url, timezoneId: 'Europe/Paris' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
  });

  after(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  step('a new person opens Settings from the account menu', async () => {
    await page.goto('/signup');
    await page.getByLabel('Name').fill('Sam Reminder');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await visible(page.getByRole('heading', { name: 'Dashboard' }));
    await page.getByRole('button', { name: 'Account' }).click();
    await page.getByRole('link', { name: 'Settings' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Settings' }));
    assert.equal(new URL(page.url()).pathname, '/settings');
  });

  step('sees the defaults, with the browser’s time zone offered, and a note that mail is off here', async () => {
    const digest = page.getByRole('checkbox', { name: 'Send me a reminder digest' });
    await visible(digest);
    assert.equal(await digest.isChecked(), true);
    assert.equal(await page.getByRole('radio', { name: 'Daily' }).isChecked(), true);
    assert.equal(await page.getByLabel('Hour').inputValue(), '8');
    assert.equal(await page.getByLabel('Time zone').inputValue(), 'Europe/Paris');
    await visible(page.getByText('This server is not set up to send email'));
    await gone(page.getByLabel('Day', { exact: true }));
  });

  step('changes to a weekly digest on Friday at 18:00 in New York, and it stays after a reload', async () => {
    await page.getByRole('radio', { name: 'Weekly' }).check();
    await page.getByLabel('Day', { exact: true }).selectOption({ label: 'Friday' });
    await page.getByLabel('Hour').selectOption({ label: '18:00' });
    await page.getByLabel('Time zone').selectOption('America/New_York');
    await page.getByRole('button', { name: 'Save reminder settings' }).click();
    await visible(
      page.getByRole('status').getByText('Saved. Your digest goes out every Friday at 18:00 (America/New_York).'),
    );
    await screenshot(page, 'phone', 'reminders-settings');

    await page.reload();
    await visible(page.getByRole('heading', { level: 1, name: 'Settings' }));
    await visible(page.getByRole('radio', { name: 'Weekly' }));
    assert.equal(await page.getByRole('radio', { name: 'Weekly' }).isChecked(), true);
    assert.equal(await page.getByLabel('Day', { exact: true }).inputValue(), '5');
    assert.equal(await page.getByLabel('Hour').inputValue(), '18');
    assert.equal(await page.getByLabel('Time zone').inputValue(), 'America/New_York');
  });

  step('copies the calendar address, which serves iCalendar without a cookie', async () => {
    const address = page.getByLabel('Calendar address');
    await visible(address);
    feedUrl = await address.inputValue();
    assert.match(feedUrl, new RegExp(`^${server.url}/api/v1/calendar/[A-Za-z0-9_-]{43}\\.ics$`));
    assert.equal(await address.isEditable(), false, 'read-only');
    await page.getByRole('button', { name: 'Copy address' }).click();
    await visible(page.getByRole('status').getByText(/Address copied|The address is selected/));
    const copied = await page.evaluate(() => navigator.clipboard.readText().catch(() => null));
    if (copied !== null) assert.equal(copied, feedUrl);

    const feed = await fetch(feedUrl);
    assert.equal(feed.status, 200);
    assert.equal(feed.headers.get('content-type'), 'text/calendar; charset=utf-8');
    assert.match(await feed.text(), /^BEGIN:VCALENDAR\r\n/);
  });

  step('resets the address after confirming: the old one answers 404, the new one the feed', async () => {
    await page.getByRole('button', { name: 'Reset address' }).click();
    const confirm = page.getByRole('group', { name: /Reset the calendar address/ });
    await visible(confirm);
    await confirm.getByRole('button', { name: 'Reset address' }).click();
    await gone(confirm);
    const address = page.getByLabel('Calendar address');
    await page.waitForFunction(
      ([el, old]) => el.value !== old,
      [await address.elementHandle(), feedUrl],
    );
    const fresh = await address.inputValue();
    assert.notEqual(fresh, feedUrl);
    const old = await fetch(feedUrl);
    assert.equal(old.status, 404);
    assert.equal((await old.json()).error.code, 'not_found');
    const now = await fetch(fresh);
    assert.equal(now.status, 200);
    assert.equal(now.headers.get('content-type'), 'text/calendar; charset=utf-8');
  });

  step('the unsubscribe link of a reminder mail, opened signed out, turns the digest off', async () => {
    const secret = unsubscribeSecret(dataDir, email);
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    const mailReader = await browser.newContext({ viewport: PHONE, baseURL: server.url });
    try {
      const tab = await mailReader.newPage();
      await tab.goto(`/unsubscribe/${secret}`);
      await visible(tab.getByRole('heading', { name: 'Reminder emails' }));
      // Opening the page changed nothing.
      const still = await (await page.request.get('/api/v1/me/reminders')).json();
      assert.equal(still.digest_enabled, true);
      await tab.getByRole('button', { name: 'Turn off reminder emails' }).click();
      await visible(
        tab.getByRole('status').getByText('Reminder emails are off. You can turn them back on in Settings.'),
      );
      await screenshot(tab, 'phone', 'unsubscribe');
    } finally {
      await mailReader.close();
    }
    await page.reload();
    const digest = page.getByRole('checkbox', { name: 'Send me a reminder digest' });
    await visible(digest);
    assert.equal(await digest.isChecked(), false);
    // The rest of the settings are as they were.
    assert.equal(await page.getByLabel('Hour').inputValue(), '18');
    assert.equal(await page.getByLabel('Time zone').inputValue(), 'America/New_York');
  });
});
