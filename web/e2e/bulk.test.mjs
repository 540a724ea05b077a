// Changing many items at once, on a phone: items selected one by one and moved to a
// location, every item a search matches (more than a page) tagged, two moved to the trash
// after a confirmation, the bar disabled without a connection, more than 1,000 items
// changed by a job, a viewer who sees no selection at all; and the Reports page: an insurance report made and downloaded as a PDF,
// and a claim pack of selected items.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { gone, launchBrowser, screenshot, screenshotsDir, startServer, steps, visible } from './harness.mjs';

const viewport = 'phone';
const size = { width: 390, height: 844 };
/** More than the item list shows on a page (50). */
const BOXES = 55;

/** The page is no wider than the screen: nothing makes it scroll sideways. */
async function noSidewaysScrolling(page) {
  const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(scroll <= width, `the page is ${scroll}px wide on a ${width}px screen`);
}

/** Whether `pdftotext` is there to read a PDF's text. */
function hasPdftotext() {
  try {
    execFileSync('pdftotext', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe(`bulk changes and reports on a ${viewport} (${size.width}x${size.height})`, () => {
  let server;
  let browser;
  let context;
  let page;
  let guestContext;
  let hid;
  let garage;
  const step = steps(test, () => page, viewport, 'bulk');

  /** A request of the signed-in person, as the app would send it. */
  const api = (path, body, method) =>
    page.evaluate(
      async ([path, body, method]) => {
        const res = await fetch(`/api/v1${path}`, {
          method: method || (body ? 'POST' : 'GET'),
          headers: body ? { 'Content-Type': 'application/json' } : {},
          body: body ? JSON.stringify(body) : undefined,
        });
        if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
        return res.status === 204 ? null : res.json();
      },
      [path, body, method],
    );

  /** Every item `query` picks, through every page. */
  const allItems = async (query) => {
    const found = [];
    let cursor = '';
    do {
      const page = await api(`/households/${hid}/items?limit=200&${query}${cursor && `&cursor=${encodeURIComponent(cursor)}`}`);
      found.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return found;
  };

  const itemList = () => page.getByRole('list', { name: 'Items' });
  const bar = () => page.getByRole('toolbar', { name: 'Bulk actions' });

  /** Opens the item list with a search, as a link would. */
  async function openItems(query = '') {
    await page.goto(`/items${query}`);
    await visible(page.getByRole('heading', { level: 1, name: 'Items' }));
  }

  before(async () => {
    rmSync(join(screenshotsDir, `${viewport}-bulk-failure.png`), { force: true });
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

  step('a new person signs up and has items, a garage and many boxes', async () => {
    await page.goto('/signup');
    await page.getByLabel('Name').fill('Noor Haddad');
    await page.getByLabel('Email').fill('noor.bulk@example.com');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await visible(page.getByRole('heading', { name: 'Dashboard' }));
    hid = await page.getByLabel('Household').inputValue();
    garage = await api(`/households/${hid}/locations`, { name: 'Garage' });
    await page.evaluate(
      async ([hid, n]) => {
        for (let i = 1; i <= n; i += 1) {
          const res = await fetch(`/api/v1/households/${hid}/items`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ name: `Storage box ${i}` }),
          });
          if (!res.ok) throw new Error(`item ${i}: ${res.status}`);
        }
      },
      [hid, BOXES],
    );
    // Newer than the boxes: the first page of the list shows them.
    const usd = (amount_minor) => ({ amount_minor, currency: 'USD' });
    await api(`/households/${hid}/items`, { name: 'Cordless drill', estimated_value: usd(12999) });
    await api(`/households/${hid}/items`, { name: 'Claw hammer', estimated_value: usd(2500) });
    await api(`/households/${hid}/items`, { name: 'Tape measure' });
    await api(`/households/${hid}/items`, { name: 'Old lamp' });
    await api(`/households/${hid}/items`, { name: 'Broken chair' });
  });

  step('each item has a checkbox; selecting some brings the bulk bar, stuck above the navigation', async () => {
    await openItems();
    await visible(itemList().getByRole('link', { name: 'Cordless drill' }));
    assert.equal(await bar().count(), 0, 'no bar while nothing is selected');
    for (const name of ['Cordless drill', 'Claw hammer', 'Tape measure']) {
      await page.getByRole('checkbox', { name: `Select ${name}`, exact: true }).check();
    }
    await visible(bar());
    await visible(bar().getByText('3 selected'));
    for (const name of ['Move', 'Tag', 'Untag', 'Set field', 'Delete']) {
      await visible(bar().getByRole('button', { name, exact: true }));
    }
    // In view at the top of the list, above the phone navigation.
    const box = await bar().boundingBox();
    const nav = await page.getByRole('navigation', { name: 'Main' }).boundingBox();
    assert.ok(box.y + box.height <= nav.y, `the bar (${box.y}+${box.height}) ends above the navigation (${nav.y})`);
    assert.ok(box.y > 0, 'the bar is on screen');
    await noSidewaysScrolling(page);
    await screenshot(page, viewport, 'bulk-selected');
  });

  step('selection survives paging', async () => {
    await openItems();
    await page.getByRole('checkbox', { name: 'Select Cordless drill', exact: true }).check();
    await page.getByRole('button', { name: 'Next page' }).click();
    await visible(page.getByText('Page 2'));
    await visible(bar().getByText('1 selected'));
    await page.getByRole('button', { name: 'Previous page' }).click();
    await visible(page.getByText('Page 1'));
    assert.ok(await page.getByRole('checkbox', { name: 'Select Cordless drill', exact: true }).isChecked());
    await bar().getByRole('button', { name: 'Clear selection' }).click();
    await gone(bar());
  });

  step('moves three selected items to the garage, and the list shows them there', async () => {
    for (const name of ['Cordless drill', 'Claw hammer', 'Tape measure']) {
      await page.getByRole('checkbox', { name: `Select ${name}`, exact: true }).check();
    }
    await bar().getByRole('button', { name: 'Move', exact: true }).click();
    const picker = page.getByLabel('Move to', { exact: true });
    await picker.click();
    await picker.fill('gar');
    await page.getByRole('option', { name: 'Garage', exact: true }).click();
    await noSidewaysScrolling(page);
    await screenshot(page, viewport, 'bulk-move');
    await page.getByRole('button', { name: 'Move 3 items' }).click();
    await visible(page.getByRole('status').filter({ hasText: 'Moved 3 items.' }));
    await gone(bar());
    assert.equal(await page.getByRole('checkbox', { name: 'Select Cordless drill', exact: true }).isChecked(), false);

    await openItems(`?location=${garage.id}`);
    await visible(itemList().getByRole('link', { name: 'Cordless drill' }));
    const names = await itemList().locator('.item-name').allTextContents();
    assert.deepEqual(names.sort(), ['Claw hammer', 'Cordless drill', 'Tape measure']);
  });

  step(`selects all ${BOXES} items a search matches, across pages, and tags them`, async () => {
    await openItems('?q=storage%20box');
    const all = page.getByRole('button', { name: `Select all ${BOXES} matching` });
    await visible(all, 20_000);
    await all.click();
    await visible(bar().getByText(`${BOXES} selected`));
    await visible(page.getByText(`All ${BOXES} matching are selected`));
    assert.ok(await page.getByRole('checkbox', { name: 'Select all', exact: true }).isChecked());
    await bar().getByRole('button', { name: 'Tag', exact: true }).click();
    await page.getByLabel('Tag name').fill('boxes');
    await page.getByRole('button', { name: `Tag ${BOXES} items` }).click();
    await visible(page.getByRole('status').filter({ hasText: `Tagged ${BOXES} items.` }), 30_000);
    await gone(bar());
    const tagged = await allItems('tag=boxes');
    assert.equal(tagged.length, BOXES);
    assert.ok(tagged.every((i) => i.name.startsWith('Storage box')));
  });

  step('a search that matches more items than counted is refused, and says how many match now', async () => {
    await openItems('?q=storage%20box');
    await page.getByRole('button', { name: `Select all ${BOXES} matching` }).click();
    await visible(bar().getByText(`${BOXES} selected`));
    // Someone else adds one more box meanwhile.
    await api(`/households/${hid}/items`, { name: `Storage box ${BOXES + 1}` });
    await bar().getByRole('button', { name: 'Untag', exact: true }).click();
    await page.getByLabel('Tag name').fill('boxes');
    await page.getByRole('button', { name: `Untag ${BOXES} items` }).click();
    await visible(page.getByText(`The list changed: ${BOXES + 1} items match now.`));
    await visible(bar().getByText(`${BOXES + 1} selected`));
    assert.equal((await allItems('tag=boxes')).length, BOXES, 'nothing was changed');
    await bar().getByRole('button', { name: 'Clear selection' }).click();
  });

  step('moves two items to the trash after confirming, and the trash has them', async () => {
    await openItems('?q=o');
    for (const name of ['Old lamp', 'Broken chair']) {
      await page.getByRole('checkbox', { name: `Select ${name}`, exact: true }).check();
    }
    await bar().getByRole('button', { name: 'Delete', exact: true }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Move 2 items to the trash?' });
    await visible(confirm);
    await screenshot(page, viewport, 'bulk-delete');
    await confirm.getByRole('button', { name: 'Move to trash' }).click();
    await visible(page.getByRole('status').filter({ hasText: 'Moved 2 items to the trash.' }));
    await gone(itemList().getByRole('link', { name: 'Old lamp' }));
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Trash' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Trash' }));
    await visible(page.getByText('Old lamp'));
    await visible(page.getByText('Broken chair'));
  });

  step('without a connection the bar says so and changes nothing', async () => {
    await openItems('?q=drill');
    await page.getByRole('checkbox', { name: 'Select Cordless drill', exact: true }).check();
    await context.setOffline(true);
    try {
      await visible(page.getByText('Bulk changes need a connection.'));
      assert.ok(await bar().getByRole('button', { name: 'Move', exact: true }).isDisabled());
      assert.ok(await bar().getByRole('button', { name: 'Delete', exact: true }).isDisabled());
    } finally {
      await context.setOffline(false);
    }
    await gone(page.getByText('Bulk changes need a connection.'));
    assert.ok(await bar().getByRole('button', { name: 'Move', exact: true }).isEnabled());
    await bar().getByRole('button', { name: 'Clear selection' }).click();
  });

  step('makes an insurance report of the garage and downloads the PDF', async () => {
    await page.getByRole('button', { name: 'Account' }).click();
    await page.getByRole('link', { name: 'Reports' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Reports' }));
    assert.equal(await page.title(), 'Reports · Home Inventory');
    await visible(page.getByRole('heading', { name: 'Insurance report' }));
    const picker = page.getByLabel('Location', { exact: true });
    await picker.click();
    await picker.fill('gar');
    await page.getByRole('option', { name: 'Garage', exact: true }).click();
    await page.getByLabel('Minimum value').fill('10');
    await page.getByRole('button', { name: 'Make report' }).click();
    const link = page.getByRole('link', { name: 'Download report (PDF)' });
    await visible(link, 30_000);
    await noSidewaysScrolling(page);
    await screenshot(page, viewport, 'reports');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const path = await download.path();
    const bytes = readFileSync(path);
    assert.equal(bytes.subarray(0, 4).toString('latin1'), '%PDF', 'the report is a PDF');
    if (hasPdftotext()) {
      const text = execFileSync('pdftotext', [path, '-']).toString('utf8');
      assert.match(text, /Cordless drill/);
      assert.match(text, /Claw hammer/);
      assert.doesNotMatch(text, /Storage box/, 'only what the filters pick');
    }
  });

  step('a claim pack of selected items, from the bulk bar to its download', async () => {
    await openItems('?q=drill');
    await page.getByRole('checkbox', { name: 'Select Cordless drill', exact: true }).check();
    await bar().getByRole('button', { name: 'Claim pack' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Reports' }));
    const link = page.getByRole('link', { name: 'Download claim pack (zip)' });
    await visible(link, 30_000);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const bytes = readFileSync(await download.path());
    assert.equal(bytes.subarray(0, 2).toString('latin1'), 'PK', 'the claim pack is a zip');
  });

  step('more than 1,000 items are changed by a job, and the bar waits for it', async () => {
    const rows = ['name'];
    for (let i = 1; i <= 1001; i += 1) rows.push(`Moving crate ${i}`);
    await page.evaluate(
      async ([hid, csv]) => {
        const res = await fetch(`/api/v1/households/${hid}/imports?dry_run=false`, {
          method: 'POST',
          headers: { 'Content-Type': 'text/csv' },
          body: csv,
        });
        if (res.status !== 202) throw new Error(`import: ${res.status} ${await res.text()}`);
        const { job } = await res.json();
        for (;;) {
          const now = await (await fetch(`/api/v1/households/${hid}/jobs/${job.id}`)).json();
          if (now.status === 'done') return;
          if (now.status === 'failed') throw new Error(`import: ${JSON.stringify(now.error)}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      },
      [hid, rows.join('\n')],
    );
    await openItems('?q=moving%20crate');
    await page.getByRole('button', { name: 'Select all 1,001 matching' }).click({ timeout: 30_000 });
    await visible(bar().getByText('1,001 selected'));
    await bar().getByRole('button', { name: 'Move', exact: true }).click();
    const picker = page.getByLabel('Move to', { exact: true });
    await picker.click();
    await picker.fill('gar');
    await page.getByRole('option', { name: 'Garage', exact: true }).click();
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/items/bulk')),
      page.getByRole('button', { name: 'Move 1,001 items' }).click(),
    ]);
    assert.equal(answer.status(), 202, 'a job does the change');
    await visible(page.getByRole('status').filter({ hasText: 'Moved 1,001 items.' }), 60_000);
    const moved = await allItems(`q=moving%20crate&location_id=${garage.id}`);
    assert.equal(moved.length, 1001);
  });

  step('a viewer sees no checkboxes and no bulk bar', async () => {
    const { code } = await api(`/households/${hid}/invites`, { role: 'viewer' });
    guestContext = await browser.newContext({ viewport: size, baseURL: server.url });
    guestContext.setDefaultTimeout(10_000);
    const guest = await guestContext.newPage();
    await guest.goto('/signup');
    await guest.getByLabel('Name').fill('Sam Ortiz');
    await guest.getByLabel('Email').fill('sam.bulk@example.com');
    await guest.getByLabel('Password').fill('correct horse battery');
    await guest.getByRole('button', { name: 'Create account' }).click();
    await visible(guest.getByRole('heading', { name: 'Dashboard' }));
    await guest.goto(`/invite/${code}`);
    await guest.getByRole('button', { name: 'Join household' }).click();
    await visible(guest.getByRole('heading', { name: 'Dashboard' }));
    await guest.goto('/items?q=storage%20box');
    await visible(guest.getByRole('link', { name: 'Storage box 56', exact: true }));
    assert.equal(await guest.getByRole('checkbox').count(), 0);
    assert.equal(await guest.getByRole('toolbar', { name: 'Bulk actions' }).count(), 0);
    assert.equal(await guest.getByRole('button', { name: /^Select all/ }).count(), 0);
    await noSidewaysScrolling(guest);
  });
});
