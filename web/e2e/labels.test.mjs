// Asset ids and printing labels, on a phone (and the preview on a desktop): the item and
// location pages show the asset id and edit it (a number taken by another thing, or not a
// number, refused at the field); labels printed from the item list's selection and from a
// location (its own label, and everything in it): the stock chosen, the first cells
// skipped (shown as used in the preview of the first sheet, with each label's text), and
// the downloaded PDF (`%PDF`, and with `pdftotext` the names of what was chosen only).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, screenshot, screenshotsDir, startServer, steps, visible } from './harness.mjs';

const viewport = 'phone';
const size = { width: 390, height: 844 };

/** Whether `pdftotext` is there to read a PDF's text. */
function hasPdftotext() {
  try {
    execFileSync('pdftotext', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function noSidewaysScrolling(page) {
  const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(scroll <= width, `the page is ${scroll}px wide on a ${width}px screen`);
}

describe(`asset ids and label printing on a ${viewport} (${size.width}x${size.height})`, () => {
  let server;
  let browser;
  let context;
  let page;
  let hid;
  let garage;
  let drill;
  let hammer;
  const step = steps(test, () => page, viewport, 'labels');

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

  const preview = () => page.getByRole('list', { name: /^First sheet of / });
  const cell = (n) => preview().getByRole('listitem', { name: new RegExp(`^Label ${n}: `) });

  /** Clicks "Download PDF" and reads the file: its bytes and its text. */
  async function download() {
    const [file] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download PDF' }).click(),
    ]);
    assert.match(file.suggestedFilename(), /^labels-.+\.pdf$/);
    const path = await file.path();
    const bytes = readFileSync(path);
    assert.equal(bytes.subarray(0, 4).toString('latin1'), '%PDF', 'the labels are a PDF');
    // Words of a label may stand on lines of their own: read as one run of words.
    const text = hasPdftotext()
      ? execFileSync('pdftotext', [path, '-']).toString('utf8').replace(/\s+/g, ' ')
      : null;
    return { bytes, text };
  }

  before(async () => {
    rmSync(join(screenshotsDir, `${viewport}-labels-failure.png`), { force: true });
    server = await startServer();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: size, baseURL: server.url, acceptDownloads: true });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
  });

  after(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  step('a person with a garage, a shelf in it and tools', async () => {
    await page.goto('/signup');
    await page.getByLabel('Name').fill('Ola Nordmann');
    await page.getByLabel('Email').fill('ola.labels@example.com');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await visible(page.getByRole('heading', { name: 'Dashboard' }));
    hid = await page.getByLabel('Household').inputValue();
    garage = await api(`/households/${hid}/locations`, { name: 'Garage' });
    const shelf = await api(`/households/${hid}/locations`, { name: 'Top shelf', parent_id: garage.id });
    drill = await api(`/households/${hid}/items`, { name: 'Cordless drill', location_id: garage.id });
    hammer = await api(`/households/${hid}/items`, { name: 'Claw hammer', location_id: shelf.id });
    await api(`/households/${hid}/items`, { name: 'Tape measure' });
    await api(`/households/${hid}/items`, { name: 'Old lamp' });
  });

  step("an item's page shows its asset id, and its form refuses a taken or malformed one at the field", async () => {
    await page.goto(`/items/${drill.id}`);
    await visible(page.getByRole('heading', { level: 1, name: 'Cordless drill' }));
    await visible(page.getByText(`Asset id ${drill.asset_id}`));
    await page.getByRole('link', { name: 'Edit' }).click();
    const field = page.getByLabel('Asset id');
    assert.equal(await field.inputValue(), drill.asset_id);
    await field.fill(garage.asset_id);
    await page.getByRole('button', { name: 'Save' }).click();
    // Said at the field, naming what has the number.
    const error = page.locator('#item-asset-id-error');
    await visible(error);
    assert.match(await error.innerText(), /Garage/);
    await field.fill('12ab');
    await page.getByRole('button', { name: 'Save' }).click();
    await visible(page.locator('#item-asset-id-error').filter({ hasText: /asset id/i }));
    await field.fill('#4242');
    await page.getByRole('button', { name: 'Save' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Cordless drill' }));
    await visible(page.getByText('Asset id 004-242'));
    drill = await api(`/households/${hid}/items/${drill.id}`);
    assert.equal(drill.asset_id, '004-242');
  });

  step("a location's page shows its asset id and renames and renumbers it", async () => {
    await page.goto('/locations');
    await page.getByRole('list', { name: 'Location tree' }).getByRole('link', { name: 'Garage', exact: true }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Garage' }));
    await visible(page.getByText(`Asset id ${garage.asset_id}`));
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Asset id').fill(drill.asset_id);
    await page.getByRole('button', { name: 'Save' }).click();
    const error = page.locator('#location-asset-id-error');
    await visible(error);
    assert.match(await error.innerText(), /Cordless drill|004-242/);
    await page.getByLabel('Asset id').fill('5000');
    await page.getByRole('button', { name: 'Save' }).click();
    await visible(page.getByText('Asset id 005-000'));
    garage = (await api(`/households/${hid}/locations`)).items.find((l) => l.id === garage.id);
    assert.equal(garage.asset_id, '005-000');
    await noSidewaysScrolling(page);
  });

  step("labels of the list's selection: the stock, two cells skipped, the preview and the PDF", async () => {
    await page.goto('/items');
    for (const name of ['Cordless drill', 'Tape measure']) {
      await page.getByRole('checkbox', { name: `Select ${name}`, exact: true }).check();
    }
    await page.getByRole('toolbar', { name: 'Bulk actions' }).getByRole('button', { name: 'Print labels' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Print labels' }));
    assert.equal(await page.title(), 'Print labels · Home Inventory');
    await page.getByLabel('Label stock').selectOption('avery-5160');
    await page.getByLabel('Labels already used on the first sheet').fill('2');
    await visible(preview());
    assert.equal(await preview().getByRole('listitem').count(), 30, 'Avery 5160 has 30 labels a sheet');
    await visible(page.getByRole('listitem', { name: 'Label 1: already used' }));
    await visible(page.getByRole('listitem', { name: 'Label 2: already used' }));
    const names = [await cell(3).getAttribute('aria-label'), await cell(4).getAttribute('aria-label')].join(' ');
    assert.match(names, /Cordless drill/);
    assert.match(names, /Tape measure/);
    assert.match(names, /004-242/);
    await visible(page.getByRole('listitem', { name: 'Label 5: blank' }));
    await noSidewaysScrolling(page);
    await screenshot(page, viewport, 'print-labels');

    await page.getByLabel('Labels already used on the first sheet').fill('30');
    await page.getByRole('button', { name: 'Download PDF' }).click();
    await visible(page.locator('#label-skip-error').filter({ hasText: 'from 0 to 29' }));
    await page.getByLabel('Labels already used on the first sheet').fill('2');

    await page.getByLabel('A line of my own').check();
    await page.getByLabel('Your line').fill('Property of Ola');
    assert.match(await cell(3).getAttribute('aria-label'), /Property of Ola/);
    const { text } = await download();
    if (text !== null) {
      assert.match(text, /Cordless drill/);
      assert.match(text, /Tape measure/);
      assert.match(text, /Property of Ola/);
      assert.doesNotMatch(text, /Old lamp|Claw hammer/, 'only the selected items');
    }
  });

  step("a location's own label lists what is in it; its other button prints everything in it", async () => {
    await page.goto(`/locations/${garage.id}`);
    await page.getByRole('link', { name: 'Print this label' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Print labels' }));
    await page.getByLabel('Label stock').selectOption('avery-l7160');
    assert.ok(await page.getByLabel(/What is inside/).isChecked());
    await visible(preview());
    assert.equal(await preview().getByRole('listitem').count(), 21, 'Avery L7160 has 21 labels a sheet');
    assert.match(await cell(1).getAttribute('aria-label'), /Garage.*005-000.*Cordless drill/);
    const own = await download();
    if (own.text !== null) {
      assert.match(own.text, /Garage/);
      assert.match(own.text, /Cordless drill/, 'the contents of the garage');
    }

    await page.goto(`/locations/${garage.id}`);
    await page.getByRole('link', { name: 'Print labels of everything in it' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Print labels' }));
    await visible(page.getByText('2 labels', { exact: true }));
    const labels = [await cell(1).getAttribute('aria-label'), await cell(2).getAttribute('aria-label')].join(' ');
    assert.match(labels, /Claw hammer/);
    assert.match(labels, /Cordless drill/);
    const inside = await download();
    if (inside.text !== null) {
      assert.match(inside.text, /Claw hammer/, 'items on the shelf inside the garage too');
      assert.match(inside.text, /Cordless drill/);
      assert.doesNotMatch(inside.text, /Tape measure|Old lamp/);
    }
  });

  step("an item's own page prints its label; on a desktop the preview sits beside the options", async () => {
    await page.goto(`/items/${hammer.id}`);
    await page.getByRole('link', { name: 'Print label' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Print labels' }));
    assert.match(await cell(1).getAttribute('aria-label'), /Claw hammer.*Garage › Top shelf/);
    await page.setViewportSize({ width: 1280, height: 800 });
    const form = await page.getByRole('form', { name: 'Label options' }).boundingBox();
    const sheet = await preview().boundingBox();
    assert.ok(sheet.x > form.x + form.width - 1, 'the preview is to the right of the options');
    await screenshot(page, 'desktop', 'print-labels');
    await page.setViewportSize(size);
  });
});
