// Maintenance and warranties on a phone: a schedule added on an item's page is overdue on
// the Maintenance page; "Mark done" moves it to done recently with its next due date; the
// Warranties page shows an item ending in 20 days under 30 days and one ending in 75 days
// only under 90; the dashboard shows both. A schedule and a log entry are changed in place
// (and a stale change is refused without losing what was typed); deleting asks first.

import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { gone, launchBrowser, screenshot, screenshotsDir, startServer, steps, visible } from './harness.mjs';

const PHONE = { width: 375, height: 740 };

/** `YYYY-MM-DD` of a local date. */
const iso = (d) =>
  `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

/** The local date `days` from today. */
const fromToday = (days) => {
  const d = new Date();
  d.setHours(12, 0, 0, 0);
  d.setDate(d.getDate() + days);
  return d;
};

/** `d` plus `n` months, on the month's last day when it is shorter. */
const addMonths = (d, n) => {
  const last = new Date(d.getFullYear(), d.getMonth() + n + 1, 0).getDate();
  return new Date(d.getFullYear(), d.getMonth() + n, Math.min(d.getDate(), last), 12);
};
const nextMonth = (d) => addMonths(d, 1);

describe('maintenance and warranties on a phone', () => {
  let server;
  let browser;
  let context;
  let page;
  let furnace;
  const start = fromToday(-3);
  const step = steps(test, () => page, 'phone', 'maintenance');

  before(async () => {
    rmSync(join(screenshotsDir, 'phone-maintenance-failure.png'), { force: true });
    server = await startServer();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, baseURL: server.url });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
  });

  after(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  step('a schedule added on an item page is overdue', async () => {
    await page.goto('/signup');
    await page.getByLabel('Name').fill('Morgan Keeper');
    await page.getByLabel('Email').fill('morgan.upkeep@example.com');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await visible(page.getByRole('heading', { name: 'Dashboard' }));

    const me = await (await page.request.get('/api/v1/me')).json();
    const hid = me.households[0].id;
    const add = async (data) => {
      const made = await page.request.post(`/api/v1/households/${hid}/items`, { data });
      assert.equal(made.status(), 201);
      return (await made.json()).id;
    };
    furnace = await add({ name: 'Furnace' });
    await add({ name: 'Washer', warranty_expires: iso(fromToday(20)) });
    await add({ name: 'Laptop', warranty_expires: iso(fromToday(75)) });

    await page.goto(`/items/${furnace}`);
    await visible(page.getByRole('heading', { level: 1, name: 'Furnace' }));
    await page.getByRole('button', { name: 'Add schedule' }).click();
    const form = page.getByRole('form', { name: 'New schedule' });
    await form.getByLabel('Task').fill('Replace the filter');
    await form.getByLabel('Every').fill('1');
    await form.getByLabel('Unit').selectOption('month');
    await form.getByLabel('Start date').fill(iso(start));
    await form.getByRole('button', { name: 'Save schedule' }).click();

    const schedules = page.getByRole('list', { name: 'Schedules' });
    const row = schedules.getByRole('listitem').filter({ hasText: 'Replace the filter' });
    await visible(row.getByText('Overdue', { exact: true }));
    await visible(row.getByText(`Next due ${iso(start)} · Overdue by 3 days`));
    await visible(page.getByText('Maintenance schedule: Replace the filter', { exact: true }));
    await row.scrollIntoViewIfNeeded();
    await screenshot(page, 'phone', 'item-maintenance');
  });

  step('the Maintenance page lists it overdue; Mark done moves it to done recently', async () => {
    await page.getByRole('button', { name: 'Account' }).click();
    await page.getByRole('link', { name: 'Maintenance' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Maintenance' }));
    const overdue = page.getByRole('list', { name: 'Overdue' });
    const row = overdue.getByRole('listitem').filter({ hasText: 'Replace the filter' });
    await visible(row.getByRole('link', { name: 'Furnace' }));
    await visible(row.getByText(/^Overdue by 3 days · due /));
    await screenshot(page, 'phone', 'maintenance-overdue');

    await row.getByRole('button', { name: 'Mark done: Replace the filter (Furnace)' }).click();
    await visible(page.getByText('Nothing is overdue.'));
    const done = page.getByRole('list', { name: 'Done recently' });
    await visible(done.getByRole('listitem').filter({ hasText: 'Replace the filter' }).getByText(`Done ${iso(fromToday(0))}`));
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= PHONE.width, `no sideways scrolling (${width})`);
    await screenshot(page, 'phone', 'maintenance-done');

    // The item shows the next due date, the log entry and the history line.
    await done.getByRole('link', { name: 'Furnace' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Furnace' }));
    const schedule = page.getByRole('list', { name: 'Schedules' }).getByRole('listitem').filter({ hasText: 'Replace the filter' });
    await visible(schedule.getByText(new RegExp(`^Next due ${iso(nextMonth(start))} · `)));
    await visible(schedule.getByText(new RegExp(`last done ${iso(fromToday(0))}`)));
    const log = page.getByRole('list', { name: 'Maintenance log' });
    await visible(log.getByText('Replace the filter'));
    await visible(page.getByText('Maintenance: Replace the filter', { exact: true }));
  });

  step('maintenance is logged with its cost and a file of the item', async () => {
    // A receipt of the furnace: announced, uploaded to the address given, completed.
    const me = await (await page.request.get('/api/v1/me')).json();
    const hid = me.households[0].id;
    const bytes = readFileSync(new URL('../icons/icon-192.png', import.meta.url));
    const files = `/api/v1/households/${hid}/items/${furnace}/attachments`;
    const announced = await (
      await page.request.post(files, {
        data: { kind: 'receipt', filename: 'burner-receipt.png', content_type: 'image/png', size: bytes.length },
      })
    ).json();
    const put = await page.request.put(announced.upload.url, { headers: announced.upload.headers, data: bytes });
    assert.ok(put.ok(), `upload: ${put.status()}`);
    assert.equal((await page.request.post(`${files}/${announced.id}/complete`)).status(), 200);

    await page.reload();
    await visible(page.getByRole('heading', { level: 1, name: 'Furnace' }));
    await page.getByRole('button', { name: 'Log maintenance' }).click();
    const form = page.getByRole('form', { name: 'Log maintenance' });
    await form.getByLabel('What was done').fill('Cleaned the burner');
    await form.getByLabel('Cost').fill('45.50');
    await form.getByRole('checkbox', { name: 'burner-receipt.png' }).check();
    await form.getByRole('button', { name: 'Save entry' }).click();
    await gone(form);
    const entry = page.getByRole('list', { name: 'Maintenance log' }).getByRole('listitem').filter({ hasText: 'Cleaned the burner' });
    await visible(entry.getByText(/45\.50/));
    await visible(entry.getByRole('link', { name: /burner-receipt\.png/ }));
    await visible(page.getByText('Maintenance: Cleaned the burner', { exact: true }));
  });

  step('a schedule and a log entry are changed in place, and deleting asks first', async () => {
    const schedules = page.getByRole('list', { name: 'Schedules' });
    await schedules.getByRole('button', { name: 'Edit schedule Replace the filter' }).click();
    const form = page.getByRole('form', { name: 'Edit schedule' });
    assert.equal(await form.getByLabel('Task').inputValue(), 'Replace the filter');
    assert.equal(await form.getByLabel('Start date').inputValue(), iso(start));
    await form.getByLabel('Every').fill('3');
    await form.getByLabel('Notes').fill('MERV 11, 16x25x1');
    await screenshot(page, 'phone', 'maintenance-edit-schedule');
    await form.getByRole('button', { name: 'Save schedule' }).click();
    await gone(form);
    const schedule = schedules.getByRole('listitem').filter({ hasText: 'Replace the filter' });
    await visible(schedule.getByText(new RegExp(`^Next due ${iso(addMonths(start, 3))} · `)));
    await visible(schedule.getByText(`every 3 months, from ${iso(start)}`, { exact: false }));
    await visible(schedule.getByText('MERV 11, 16x25x1'));
    await visible(page.getByText('Maintenance schedule changed: Replace the filter', { exact: true }));

    // Someone else changes the schedule while it is open here: saving is refused, what was
    // typed stays, and saving again keeps it.
    await schedules.getByRole('button', { name: 'Edit schedule Replace the filter' }).click();
    await form.getByLabel('Task').fill('Replace the furnace filter');
    const me = await (await page.request.get('/api/v1/me')).json();
    const hid = me.households[0].id;
    const base = `/api/v1/households/${hid}/items/${furnace}/maintenance`;
    const [current] = (await (await page.request.get(`${base}/schedules`)).json()).items;
    const other = await page.request.patch(`${base}/schedules/${current.id}`, {
      headers: { 'If-Match': `"${current.version}"` },
      data: { notes: 'Changed on another phone' },
    });
    assert.equal(other.status(), 200);
    await form.getByRole('button', { name: 'Save schedule' }).click();
    await visible(form.getByRole('alert').getByText(/Someone changed this schedule while you were editing it/));
    assert.equal(await form.getByLabel('Task').inputValue(), 'Replace the furnace filter');
    await form.getByRole('button', { name: 'Save schedule' }).click();
    await gone(form);
    await visible(schedules.getByRole('listitem').filter({ hasText: 'Replace the furnace filter' }));

    // The entry: its cost and notes change, its file stays.
    const log = page.getByRole('list', { name: 'Maintenance log' });
    await log.getByRole('button', { name: `Edit log entry Cleaned the burner of ${iso(fromToday(0))}` }).click();
    const entryForm = page.getByRole('form', { name: 'Edit log entry' });
    assert.equal(await entryForm.getByLabel('Cost').inputValue(), '45.50');
    assert.equal(await entryForm.getByRole('checkbox', { name: 'burner-receipt.png' }).isChecked(), true);
    await entryForm.getByLabel('What was done').fill('Cleaned the burner and igniter');
    await entryForm.getByLabel('Cost').fill('52');
    await entryForm.getByRole('button', { name: 'Save entry' }).click();
    await gone(entryForm);
    const entry = log.getByRole('listitem').filter({ hasText: 'Cleaned the burner and igniter' });
    await visible(entry.getByText(/52\.00/));
    await visible(entry.getByRole('link', { name: /burner-receipt\.png/ }));

    // Deleting asks, "Keep it" keeps it, and confirming removes it.
    const remove = log.getByRole('button', { name: `Delete log entry Cleaned the burner and igniter of ${iso(fromToday(0))}` });
    await remove.click();
    const question = page.getByRole('group', { name: /Delete “Cleaned the burner and igniter” of .* from the log\?/ });
    await visible(question);
    await question.getByRole('button', { name: 'Keep it' }).click();
    await gone(question);
    await visible(entry);
    await remove.click();
    await question.getByRole('button', { name: 'Delete entry' }).click();
    await gone(entry);
    await visible(log.getByText('Replace the filter'));
    await visible(page.getByText('Maintenance removed: Cleaned the burner and igniter', { exact: true }));
  });

  step('the Warranties page shows what ends in 30 days, and more in 90', async () => {
    await page.getByRole('button', { name: 'Account' }).click();
    await page.getByRole('link', { name: 'Warranties' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Warranties' }));
    const ending = page.getByRole('list', { name: 'Ending soon' });
    await visible(ending.getByRole('link', { name: 'Washer' }));
    await visible(ending.getByText(`Ends in 20 days · ${iso(fromToday(20))}`));
    assert.equal(await page.getByRole('link', { name: 'Laptop' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: '30 days' }).getAttribute('aria-pressed'), 'true');

    await page.getByRole('button', { name: '90 days' }).click();
    await visible(page.getByRole('heading', { name: 'Ending in the next 90 days' }));
    await visible(ending.getByRole('link', { name: 'Laptop' }));
    await visible(ending.getByRole('link', { name: 'Washer' }));
    await screenshot(page, 'phone', 'warranties');
  });

  step('the dashboard shows both', async () => {
    await page.goto('/');
    await visible(page.getByRole('heading', { name: 'Dashboard' }));
    const maintenance = page.getByRole('region', { name: 'Maintenance' });
    await visible(maintenance.getByText('0 overdue · 0 due soon'));
    await visible(maintenance.getByRole('link', { name: 'All maintenance' }));
    const warranties = page.getByRole('region', { name: 'Warranties' });
    await visible(warranties.getByText('1 ending in the next 30 days'));
    await visible(warranties.getByRole('link', { name: 'Washer' }));
    await warranties.getByRole('link', { name: 'All warranties' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Warranties' }));
  });
});
