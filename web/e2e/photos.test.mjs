// Photos and documents of an item: uploads with progress, the primary photo, documents, a
// refused file, a viewer who only looks; once on a desktop and once on a phone.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { deflateSync } from 'node:zlib';

import {
  gone,
  launchBrowser,
  screenshot,
  screenshotsDir,
  startServer,
  visible,
} from './harness.mjs';

const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 375, height: 740 },
};

const chosen = Object.entries(VIEWPORTS).filter(
  ([name]) => !process.env.HI_VIEWPORT || process.env.HI_VIEWPORT === name,
);

// ---------------------------------------------------------------- files made here

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A PNG of one colour. */
function png(width, height, [r, g, b]) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array(width).fill([r, g, b]).flat())]);
  const pixels = Buffer.concat(Array(height).fill(row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(pixels)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A one-page PDF. */
function pdf() {
  return Buffer.from(
    [
      '%PDF-1.4',
      '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj',
      '2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj',
      '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj',
      'trailer << /Root 1 0 R >>',
      '%%EOF',
      '',
    ].join('\n'),
  );
}

const RED = [220, 38, 38];
const BLUE = [37, 99, 235];

for (const [viewport, size] of chosen) {
  describe(`photos and documents on a ${viewport} (${size.width}x${size.height})`, () => {
    let server;
    let browser;
    let context;
    let page;
    let guestContext;
    let guest;
    let failed = false;
    const step = (name, fn) =>
      test(name, async (t) => {
        if (failed) return t.skip('an earlier step failed');
        try {
          await fn(t);
        } catch (error) {
          failed = true;
          await screenshot(page, viewport, 'photos-failure').catch(() => {});
          throw error;
        }
      });
    const password = 'correct horse battery';
    const itemName = 'Camera bag';
    let blueJpeg;

    const nav = (name) =>
      page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
    const itemList = () => page.getByRole('list', { name: 'Items' });
    const photosCard = (p = page) => p.getByRole('region', { name: 'Photos' });
    const documents = () => page.getByRole('list', { name: 'Documents' });
    const thumb = (name, p = page) =>
      photosCard(p).getByRole('button', { name: new RegExp(`^Show ${name.replace('.', '\\.')}`) });
    const uploadRow = (name) => page.getByRole('listitem').filter({ hasText: name });

    /** The colour in the middle of an image, once it has loaded. */
    const colourOf = (image) =>
      image.evaluate(async (img) => {
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = 8;
        canvas.height = 8;
        const g = canvas.getContext('2d');
        g.drawImage(img, 0, 0, 8, 8);
        const [r, gr, b] = g.getImageData(4, 4, 1, 1).data;
        return [r, gr, b];
      });
    const isBlue = ([r, g, b]) => b > 150 && r < 120 && g < 160;
    const isRed = ([r, g, b]) => r > 150 && g < 120 && b < 120;

    async function addItem(name) {
      await nav('Items').click();
      await page.getByRole('link', { name: 'Add item' }).click();
      await visible(page.getByRole('heading', { name: 'Add item' }));
      await page.getByLabel('Name', { exact: true }).fill(name);
      await page.getByRole('button', { name: 'Save' }).click();
      await visible(page.getByRole('heading', { level: 1, name }));
    }

    async function noSidewaysScrolling(p = page) {
      const overflow = await p.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      assert.equal(overflow, 0, 'the page scrolls sideways');
    }

    before(async () => {
      rmSync(join(screenshotsDir, `${viewport}-photos-failure.png`), { force: true });
      server = await startServer();
      browser = await launchBrowser();
      context = await browser.newContext({ viewport: size, baseURL: server.url });
      context.setDefaultTimeout(10_000);
      page = await context.newPage();
      // A JPEG as a camera would make one: drawn and encoded by the browser.
      const base64 = await page.evaluate(([r, g, b]) => {
        const canvas = document.createElement('canvas');
        canvas.width = 60;
        canvas.height = 80;
        const ctx = canvas.getContext('2d');
        ctx.fillStyle = `rgb(${r} ${g} ${b})`;
        ctx.fillRect(0, 0, 60, 80);
        return canvas.toDataURL('image/jpeg', 0.9).split(',')[1];
      }, BLUE);
      blueJpeg = Buffer.from(base64, 'base64');
    });

    after(async () => {
      await guestContext?.close().catch(() => {});
      await context?.close().catch(() => {});
      await browser?.close().catch(() => {});
      await server?.stop();
    });

    step('a new item has no photos yet, and says how to add them', async () => {
      await page.goto('/signup');
      await page.getByLabel('Name').fill('Robin Diaz');
      await page.getByLabel('Email').fill(`robin.${viewport}@example.com`);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Create account' }).click();
      await visible(page.getByRole('heading', { name: 'Dashboard' }));
      await addItem('Spare strap');
      await addItem(itemName);
      await visible(photosCard().getByText('No photos yet'));
      await visible(page.getByRole('region', { name: 'Documents' }).getByText('No receipts, manuals or warranties yet.'));
      await noSidewaysScrolling();
    });

    step('uploads two photos at once, each with its own progress', async () => {
      // Hold the servers' checks back until both rows have been seen.
      let release;
      const held = new Promise((resolve) => {
        release = resolve;
      });
      await page.route('**/attachments/*/complete', async (route) => {
        await held;
        await route.continue();
      });
      await page.getByLabel('Add photos').setInputFiles([
        { name: 'red.png', mimeType: 'image/png', buffer: png(64, 48, RED) },
        { name: 'blue.jpg', mimeType: 'image/jpeg', buffer: blueJpeg },
      ]);
      const uploads = page.getByRole('list', { name: 'Photo uploads' });
      for (const name of ['red.png', 'blue.jpg']) {
        await visible(uploads.getByRole('progressbar', { name: `Upload of ${name}` }));
        await visible(uploads.getByRole('listitem').filter({ hasText: name }).getByText('Processing'));
      }
      await screenshot(page, viewport, 'photos-uploading');
      release();
      await page.unrouteAll({ behavior: 'wait' });

      await visible(thumb('red.png'));
      await visible(thumb('blue.jpg'));
      // The finished rows give way to the photos themselves.
      await gone(uploads, 15_000);
      // The first photo that was ready became the primary one, shown large.
      const hero = photosCard().getByRole('img', { name: `Photo 1 of 2 of ${itemName}` });
      await visible(hero);
      await visible(photosCard().getByText('Primary photo'));
      await noSidewaysScrolling();
    });

    step('makes the other photo the primary one', async () => {
      const redFirst = (await thumb('red.png').getAttribute('aria-label')).includes('primary');
      const [other, colour] = redFirst ? ['blue.jpg', isBlue] : ['red.png', isRed];
      await thumb(other).click();
      assert.equal(await thumb(other).getAttribute('aria-pressed'), 'true');
      await visible(photosCard().getByText(other, { exact: true }));
      await page.getByRole('button', { name: 'Make primary' }).click();
      await visible(photosCard().getByRole('button', { name: `Show ${other} (primary photo)` }));
      await gone(page.getByRole('button', { name: 'Make primary' }));
      // Primary comes first.
      const names = await photosCard()
        .getByRole('list', { name: 'Photos' })
        .getByRole('button')
        .evaluateAll((buttons) => buttons.map((b) => b.getAttribute('aria-label')));
      assert.equal(names[0], `Show ${other} (primary photo)`);
      await screenshot(page, viewport, 'item-photos');

      // Lists show it beside the item's name; an item without photos gets a placeholder.
      await nav('Items').click();
      const row = itemList().getByRole('listitem').filter({ hasText: itemName });
      await visible(row.getByRole('link', { name: itemName }));
      assert.equal(await row.locator('img').count(), 1);
      assert.equal(await row.locator('img').getAttribute('alt'), '');
      assert.ok(colour(await colourOf(row.locator('img'))), `the list shows ${other}`);
      const bare = itemList().getByRole('listitem').filter({ hasText: 'Spare strap' });
      await visible(bare.getByRole('link', { name: 'Spare strap' }));
      assert.equal(await bare.locator('img').count(), 0);
      await screenshot(page, viewport, 'items-thumbnails');
      await noSidewaysScrolling();
    });

    step('adds a PDF as a receipt, listed under Documents', async () => {
      await itemList().getByRole('link', { name: itemName }).click();
      await visible(thumb('red.png'));
      assert.equal(await page.getByLabel('Document type').inputValue(), 'receipt');
      await page.getByLabel('Add documents').setInputFiles([
        { name: 'receipt.pdf', mimeType: 'application/pdf', buffer: pdf() },
      ]);
      const link = await visible(documents().getByRole('link', { name: 'receipt.pdf' }));
      const entry = documents().getByRole('listitem').filter({ hasText: 'receipt.pdf' });
      await visible(entry.getByText('Receipt', { exact: true }));
      // The link opens the file itself.
      const answer = await page.request.get(await link.getAttribute('href'));
      assert.equal(answer.status(), 200);
      assert.equal((await answer.body()).subarray(0, 5).toString(), '%PDF-');
      await noSidewaysScrolling();
    });

    step('a file that is not what its name says is refused in the server\u2019s words', async () => {
      await page.getByLabel('Add photos').setInputFiles([
        { name: 'holiday.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('These are words, not a picture.\n') },
      ]);
      const row = uploadRow('holiday.jpg');
      await visible(row.getByText('Failed', { exact: true }));
      const message = await row.getByRole('alert').textContent();
      assert.match(message, /(image|photo|picture|type|file)/i);
      await visible(row.getByRole('button', { name: 'Retry holiday.jpg' }));
      await noSidewaysScrolling();
      await row.getByRole('button', { name: 'Dismiss holiday.jpg' }).click();
      await gone(row);
      // Nothing was kept.
      await page.reload();
      await visible(thumb('red.png'));
      assert.equal(await thumb('holiday.jpg').count(), 0);

      // A file no item can hold is refused here, before anything is sent.
      await page.getByLabel('Add documents').setInputFiles([
        { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('shopping list') },
      ]);
      const local = uploadRow('notes.txt');
      await visible(local.getByRole('alert').getByText(/“notes\.txt” can't be added/));
      assert.equal(await local.getByRole('button', { name: 'Retry notes.txt' }).count(), 0);
      await local.getByRole('button', { name: 'Dismiss notes.txt' }).click();
      await gone(local);
    });

    step('an upload cut off on the way fails, and Retry sends it again', async () => {
      await page.route('**/*', (route) =>
        route.request().method() === 'PUT' ? route.abort('internetdisconnected') : route.continue(),
      );
      await page.getByLabel('Add photos').setInputFiles([
        { name: 'shelf.png', mimeType: 'image/png', buffer: png(40, 40, [22, 163, 74]) },
      ]);
      const row = uploadRow('shelf.png');
      await visible(row.getByRole('alert').getByText('The upload did not get through.', { exact: false }));
      await page.unrouteAll({ behavior: 'wait' });
      await row.getByRole('button', { name: 'Retry shelf.png' }).click();
      await visible(thumb('shelf.png'));
    });

    step('deletes a photo after asking', async () => {
      await thumb('shelf.png').click();
      await page.getByRole('button', { name: 'Delete photo' }).click();
      const ask = page.getByRole('group', { name: /Delete photo “shelf\.png”\?/ });
      await visible(ask);
      await ask.getByRole('button', { name: 'Keep it' }).click();
      await gone(ask);
      await visible(thumb('shelf.png'));

      await page.getByRole('button', { name: 'Delete photo' }).click();
      await page.getByRole('button', { name: 'Yes, delete' }).click();
      await gone(thumb('shelf.png'));
      // The keyboard focus is not lost with the button: it goes to the Photos heading.
      const focused = await page.evaluate(() => document.activeElement?.textContent);
      assert.equal(focused, 'Photos');
      await visible(thumb('red.png'));
      await visible(thumb('blue.jpg'));
      await page.reload();
      await visible(thumb('blue.jpg'));
      assert.equal(await thumb('shelf.png').count(), 0);
    });

    step('deleting the primary photo makes the other one primary', async () => {
      const primary = photosCard().getByRole('button', { name: /\(primary photo\)$/ });
      const name = (await primary.getAttribute('aria-label')).replace(/^Show | \(primary photo\)$/g, '');
      const other = name === 'red.png' ? 'blue.jpg' : 'red.png';
      await primary.click();
      await page.getByRole('button', { name: 'Delete photo' }).click();
      await page.getByRole('button', { name: 'Yes, delete' }).click();
      // One photo left: shown large, no thumbnails, and it is the primary one now.
      await visible(photosCard().getByRole('img', { name: `Photo of ${itemName}` }));
      await visible(photosCard().getByText(other, { exact: true }));
      await visible(photosCard().getByText('Primary photo'));
      assert.equal(await photosCard().getByRole('list', { name: 'Photos' }).count(), 0);
      await noSidewaysScrolling();
    });

    // Dragging files in is for desktops.
    if (viewport === 'desktop') step('files dropped on the item: images become photos, PDFs the chosen kind', async () => {
      await page.getByLabel('Document type').selectOption('manual');
      const transfer = await page.evaluateHandle(
        ([image, guide]) => {
          const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const dt = new DataTransfer();
          dt.items.add(new File([bytes(image)], 'porch.png', { type: 'image/png' }));
          dt.items.add(new File([bytes(guide)], 'guide.pdf', { type: 'application/pdf' }));
          return dt;
        },
        [png(32, 32, [250, 204, 21]).toString('base64'), pdf().toString('base64')],
      );
      const target = photosCard();
      await target.dispatchEvent('dragenter', { dataTransfer: transfer });
      await target.dispatchEvent('dragover', { dataTransfer: transfer });
      await target.dispatchEvent('drop', { dataTransfer: transfer });
      await visible(thumb('porch.png'));
      const guide = documents().getByRole('listitem').filter({ hasText: 'guide.pdf' });
      await visible(guide.getByText('Manual', { exact: true }));
      await visible(documents().getByRole('listitem').filter({ hasText: 'receipt.pdf' }).getByText('Receipt', { exact: true }));
    });

    step('deletes a document after asking', async () => {
      await page.getByRole('button', { name: 'Delete receipt.pdf' }).click();
      await page.getByRole('button', { name: 'Yes, delete' }).click();
      await gone(documents().getByRole('link', { name: 'receipt.pdf' }));
      await page.reload();
      await visible(photosCard().getByText('Primary photo'));
      assert.equal(await page.getByRole('link', { name: 'receipt.pdf' }).count(), 0);
      await screenshot(page, viewport, 'item-documents');
    });

    step('a viewer sees the photos and documents but changes nothing', async () => {
      const itemPath = new URL(page.url()).pathname;
      const hid = await page.getByLabel('Household').inputValue();
      const code = await page.evaluate(async (hid) => {
        const res = await fetch(`/api/v1/households/${hid}/invites`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ role: 'viewer' }),
        });
        if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
        return (await res.json()).code;
      }, hid);
      guestContext = await browser.newContext({ viewport: size, baseURL: server.url });
      guestContext.setDefaultTimeout(10_000);
      guest = await guestContext.newPage();
      await guest.goto('/signup');
      await guest.getByLabel('Name').fill('Kit Lee');
      await guest.getByLabel('Email').fill(`kit.${viewport}@example.com`);
      await guest.getByLabel('Password').fill(password);
      await guest.getByRole('button', { name: 'Create account' }).click();
      await visible(guest.getByRole('heading', { name: 'Dashboard' }));
      await guest.goto(`/invite/${code}`);
      await guest.getByRole('button', { name: 'Join household' }).click();
      await visible(guest.getByRole('heading', { name: 'Dashboard' }));

      await guest.goto(itemPath);
      await visible(guest.getByRole('heading', { level: 1, name: itemName }));
      await visible(photosCard(guest).getByText('Primary photo'));
      if (viewport === 'desktop') {
        await visible(guest.getByRole('list', { name: 'Documents' }).getByRole('link', { name: 'guide.pdf' }));
      }
      for (const name of ['Add photos', 'Add documents', 'Document type']) {
        assert.equal(await guest.getByLabel(name).count(), 0, `a viewer has no ${name}`);
      }
      for (const name of ['Make primary', 'Delete photo', 'Delete guide.pdf']) {
        assert.equal(await guest.getByRole('button', { name }).count(), 0, `a viewer has no ${name}`);
      }
      await noSidewaysScrolling(guest);
    });
  });
}
