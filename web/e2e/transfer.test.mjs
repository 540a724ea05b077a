// Import & export on a phone: the items exported as a CSV file and downloaded, a CSV file
// checked row by row (a bad row refused with its line and reason) and then imported, a file
// over 5 MB uploaded before it is checked, a backup refused by a household that is not
// empty, a viewer who may only export, and a backup downloaded and restored into a new
// household.

import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, screenshot, screenshotsDir, startServer, steps, visible } from './harness.mjs';

const viewport = 'phone';
const size = { width: 375, height: 740 };

const IMPORT_CSV = [
  'HB.name,HB.location,HB.quantity',
  'Camping stove,Garage / Shelf 2,1',
  'Sleeping bag,Garage / Shelf 2,2',
  'Tent,Garage,lots',
].join('\n');

/** The page is no wider than the screen: nothing makes it scroll sideways. */
async function noSidewaysScrolling(page) {
  const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(scroll <= width, `the page is ${scroll}px wide on a ${width}px screen`);
}

/** Opens "Import & export" from the account menu. */
async function openImportExport(page) {
  await page.getByRole('button', { name: 'Account' }).click();
  await page.getByRole('link', { name: 'Import & export' }).click();
  await visible(page.getByRole('heading', { level: 1, name: 'Import & export' }));
}

describe(`import and export on a ${viewport} (${size.width}x${size.height})`, () => {
  let server;
  let browser;
  let context;
  let page;
  let guestContext;
  let backup;
  const step = steps(test, () => page, viewport, 'transfer');

  /** A request of the signed-in person, as the app would send it. */
  const api = (path, body) =>
    page.evaluate(
      async ([path, body]) => {
        const res = await fetch(`/api/v1${path}`, {
          method: body ? 'POST' : 'GET',
          headers: body ? { 'Content-Type': 'application/json' } : {},
          body: body ? JSON.stringify(body) : undefined,
        });
        if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
        return res.json();
      },
      [path, body],
    );

  before(async () => {
    rmSync(join(screenshotsDir, `${viewport}-transfer-failure.png`), { force: true });
    server = await startServer();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: size, baseURL: server.url, acceptDownloads: true });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
  });

  after(async () => {
    await guestContext?.close().catch(() => {});
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  step('a new person signs up and has two items in the garage', async () => {
    await page.goto('/signup');
    await page.getByLabel('Name').fill('Ada Moreau');
    await page.getByLabel('Email').fill('ada.transfer@example.com');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await visible(page.getByRole('heading', { name: 'Dashboard' }));
    const hid = await page.getByLabel('Household').inputValue();
    const garage = await api(`/households/${hid}/locations`, { name: 'Garage' });
    for (const name of ['Cordless drill', 'Step ladder']) {
      await api(`/households/${hid}/items`, { name, location_id: garage.id });
    }
  });

  step('opens Import & export from the account menu', async () => {
    await openImportExport(page);
    assert.equal(await page.title(), 'Import & export · Home Inventory');
    assert.equal(new URL(page.url()).pathname, '/import-export');
    await visible(page.getByRole('heading', { name: 'Export', exact: true }));
    await visible(page.getByRole('heading', { name: 'Import', exact: true }));
    await noSidewaysScrolling(page);
  });

  step('exports a CSV file with both items, ready for a spreadsheet or Homebox', async () => {
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const link = page.getByRole('link', { name: 'Download CSV' });
    await visible(link, 20_000);
    await visible(page.getByText('2 items exported.'));
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const bytes = readFileSync(await download.path());
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'the file starts with the UTF-8 byte order mark');
    const text = bytes.subarray(3).toString('utf8');
    const header = text.split(/\r?\n/)[0];
    assert.ok(header.split(',').includes('HB.name'), `the header has HB.name: ${header}`);
    assert.match(text, /Cordless drill/);
    assert.match(text, /Step ladder/);
    assert.match(text, /Garage/);
  });

  step('checks a CSV file first: what each row would do, and why a row is refused', async () => {
    const file = page.getByLabel('File to import');
    assert.equal(await file.getAttribute('accept'), '.csv,.tsv,.txt,.zip');
    await file.setInputFiles({ name: 'camping.csv', mimeType: 'text/csv', buffer: Buffer.from(IMPORT_CSV) });
    await page.getByRole('button', { name: 'Check file' }).click();
    await visible(page.getByText('2 to create, 0 to update, 0 unchanged, 1 refused.'), 20_000);
    await visible(page.getByText(/New locations: .*Shelf 2/));

    const table = page.getByRole('table', { name: 'Rows of the file' });
    await visible(table);
    const headers = await table.getByRole('columnheader').allTextContents();
    assert.deepEqual(headers, ['Line', 'Name', 'What happens', 'Reason']);
    const refused = table.getByRole('row').filter({ hasText: 'Refused' });
    assert.equal(await refused.count(), 1);
    const cells = await refused.getByRole('cell').allTextContents();
    assert.equal(cells[0], '4');
    assert.equal(cells[2], 'Refused');
    assert.match(cells[3], /quantity/i);
    assert.match(cells[3], /lots/);
    const stove = await table.getByRole('row').filter({ hasText: 'Camping stove' }).getByRole('cell').allTextContents();
    assert.deepEqual(stove.slice(0, 3), ['2', 'Camping stove', 'Create']);

    // The table scrolls sideways inside its box; the page itself does not.
    const region = page.getByRole('region', { name: 'Rows of the file' });
    const [inner, outer] = await region.evaluate((el) => [el.scrollWidth, el.clientWidth]);
    assert.ok(inner > outer, `the table (${inner}px) scrolls inside its ${outer}px box`);
    await noSidewaysScrolling(page);
    await screenshot(page, viewport, 'import-check');
    await region.evaluate((el) => el.scrollTo(el.scrollWidth, 0));
    await screenshot(page, viewport, 'import-check-reasons');

    // Nothing is written by a check.
    const hid = await page.getByLabel('Household').inputValue();
    const items = await api(`/households/${hid}/items`);
    assert.equal(items.items.length, 2);
  });

  step('imports the rows that can be, and the items list shows them', async () => {
    await page.getByRole('button', { name: 'Import 2 items' }).click();
    await visible(page.getByText('Imported: 2 created, 0 updated, 0 unchanged, 1 refused.'), 20_000);
    assert.equal(await page.getByRole('button', { name: 'Import 2 items' }).count(), 0);
    await screenshot(page, viewport, 'import-done');
    await page.getByRole('link', { name: 'See the items' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Items' }));
    for (const name of ['Camping stove', 'Sleeping bag', 'Cordless drill', 'Step ladder']) {
      await visible(page.getByRole('link', { name, exact: true }));
    }
    assert.equal(await page.getByRole('link', { name: 'Tent', exact: true }).count(), 0);
  });

  step('a backup restores only into an empty household, and says so', async () => {
    await openImportExport(page);
    await page
      .getByLabel('File to import')
      .setInputFiles({ name: 'backup.zip', mimeType: 'application/zip', buffer: Buffer.from('PK\x05\x06' + '\0'.repeat(18)) });
    await visible(page.getByText('This restores a backup into this household (it must be empty).'));
    await page.getByRole('button', { name: 'Check file' }).click();
    const alert = page.getByRole('alert');
    await visible(alert);
    assert.match(await alert.textContent(), /empty/i);
  });

  step('a file over 5 MB is announced and uploaded, then checked', async () => {
    const rows = ['HB.name,HB.description'];
    const filler = 'x'.repeat(90);
    for (let i = 1, size = 0; size <= 5.5 * 1024 * 1024; i += 1) {
      rows.push(`Box ${i},${filler}`);
      size += rows[i].length + 1;
    }
    const big = Buffer.from(rows.join('\n'));
    assert.ok(big.length > 5 * 1024 * 1024);
    await page.getByLabel('File to import').setInputFiles({ name: 'boxes.csv', mimeType: 'text/csv', buffer: big });
    await page.getByRole('button', { name: 'Check file' }).click();
    const count = (rows.length - 1).toLocaleString('en-US');
    await visible(page.getByText(`${count} to create, 0 to update, 0 unchanged, 0 refused.`), 60_000);
    await visible(page.getByRole('button', { name: `Import ${count} items` }));
    await visible(page.getByRole('table', { name: 'The first 200 rows of the file' }));
  });

  step('a viewer may export but sees no import', async () => {
    const hid = await page.getByLabel('Household').inputValue();
    const { code } = await api(`/households/${hid}/invites`, { role: 'viewer' });
    guestContext = await browser.newContext({ viewport: size, baseURL: server.url });
    guestContext.setDefaultTimeout(10_000);
    const guest = await guestContext.newPage();
    await guest.goto('/signup');
    await guest.getByLabel('Name').fill('Kit Lee');
    await guest.getByLabel('Email').fill('kit.transfer@example.com');
    await guest.getByLabel('Password').fill('correct horse battery');
    await guest.getByRole('button', { name: 'Create account' }).click();
    await visible(guest.getByRole('heading', { name: 'Dashboard' }));
    await guest.goto(`/invite/${code}`);
    await guest.getByRole('button', { name: 'Join household' }).click();
    await visible(guest.getByRole('heading', { name: 'Dashboard' }));
    assert.equal(await guest.getByLabel('Household').inputValue(), hid);

    await openImportExport(guest);
    await visible(guest.getByRole('button', { name: 'Export CSV' }));
    assert.equal(await guest.getByRole('heading', { name: 'Import', exact: true }).count(), 0);
    assert.equal(await guest.getByLabel('File to import').count(), 0);
    assert.equal(await guest.getByRole('button', { name: 'Check file' }).count(), 0);
    await guest.getByRole('button', { name: 'Export CSV' }).click();
    await visible(guest.getByRole('link', { name: 'Download CSV' }), 20_000);
    await noSidewaysScrolling(guest);
  });

  step('downloads a backup of the household', async () => {
    await page.getByRole('button', { name: 'Make a backup' }).click();
    const link = page.getByRole('link', { name: 'Download backup' });
    await visible(link, 30_000);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.match(download.suggestedFilename(), /\.zip$/);
    backup = { name: download.suggestedFilename(), mimeType: 'application/zip', buffer: readFileSync(await download.path()) };
    assert.equal(backup.buffer.subarray(0, 2).toString('latin1'), 'PK', 'the backup is a zip');
  });

  step('restores the backup into a new, empty household', async () => {
    await api('/households', { name: 'Cabin' });
    await page.reload();
    await page.getByLabel('Household').selectOption({ label: 'Cabin' });
    await visible(page.getByRole('heading', { name: 'Dashboard' }));
    await openImportExport(page);
    await page.getByLabel('File to import').setInputFiles(backup);
    await visible(page.getByText('This restores a backup into this household (it must be empty).'));
    await page.getByRole('button', { name: 'Check file' }).click();
    await visible(page.getByText('The backup holds 4 items, 2 locations and 0 files, and can be restored.'), 20_000);
    const hid = await page.getByLabel('Household').inputValue();
    assert.equal((await api(`/households/${hid}/items`)).items.length, 0, 'a check writes nothing');
    await page.getByRole('button', { name: 'Restore the backup' }).click();
    await visible(page.getByText('Restored: 4 items.'), 30_000);
    await noSidewaysScrolling(page);
    await page.getByRole('link', { name: 'See the items' }).click();
    for (const name of ['Camping stove', 'Sleeping bag', 'Cordless drill', 'Step ladder']) {
      await visible(page.getByRole('link', { name, exact: true }));
    }
  });
});
