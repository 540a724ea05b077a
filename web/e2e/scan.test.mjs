// The Scan page on a phone and where a label's QR code leads (`/q/<code>`): a real label
// (a PDF from the server, rendered to pixels with pdftoppm) shown to Chromium's fake camera
// opens its item, read by the app's own QR decoder (headless Chromium has no
// BarcodeDetector); without a camera a code is typed: a label's number opens its item, a
// product barcode lists the items with it or starts a new one with it filled in; a label
// opened signed out goes through the sign-in page and back; an unknown label says so.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, screenshot, screenshotsDir, startServer, steps, visible } from './harness.mjs';

const viewport = 'phone';
const size = { width: 390, height: 844 };
const email = 'ines.scan@example.com';
const password = 'correct horse battery';
/** The fake camera's picture. */
const FRAME = { width: 640, height: 480 };
const DPI = 240;

const nav = (page, name) =>
  page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

/** A request of the signed-in person, as the app would send it. */
const api = (page, path, body, method) =>
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

/** The PDF of labels `body` asks for, as bytes. */
async function labelsPdf(page, hid, body) {
  const base64 = await page.evaluate(
    async ([hid, body]) => {
      const res = await fetch(`/api/v1/households/${hid}/labels`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`labels: ${res.status} ${await res.text()}`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      let text = '';
      for (const b of bytes) text += String.fromCharCode(b);
      return btoa(text);
    },
    [hid, body],
  );
  return Buffer.from(base64, 'base64');
}

/** A binary PGM's size and grey pixels. */
function readPgm(bytes) {
  // "P5", width, height, maxval, each followed by one whitespace byte.
  const fields = [];
  let at = 0;
  while (fields.length < 4) {
    while (/\s/.test(String.fromCharCode(bytes[at]))) at += 1;
    let token = '';
    while (!/\s/.test(String.fromCharCode(bytes[at]))) token += String.fromCharCode(bytes[at++]);
    fields.push(token);
  }
  assert.equal(fields[0], 'P5');
  const [width, height] = [Number(fields[1]), Number(fields[2])];
  return { width, height, pixels: bytes.subarray(at + 1, at + 1 + width * height) };
}

/**
 * A one-frame Y4M video (4:2:0: the grey picture as Y, U and V neutral) of `grey`, drawn
 * in the middle of a white `FRAME`, no larger than it (scaled down if it must be).
 */
function y4m({ width, height, pixels }) {
  const { width: W, height: H } = FRAME;
  const scale = Math.min(1, W / width, H / height);
  const [w, h] = [Math.floor(width * scale), Math.floor(height * scale)];
  const [left, top] = [Math.floor((W - w) / 2), Math.floor((H - h) / 2)];
  const y = Buffer.alloc(W * H, 255);
  for (let row = 0; row < h; row += 1) {
    for (let col = 0; col < w; col += 1) {
      const from = Math.floor(row / scale) * width + Math.floor(col / scale);
      y[(top + row) * W + left + col] = pixels[from];
    }
  }
  const chroma = Buffer.alloc((W / 2) * (H / 2) * 2, 128);
  const header = Buffer.from(`YUV4MPEG2 W${W} H${H} F10:1 Ip A1:1 C420jpeg\n`, 'latin1');
  return Buffer.concat([header, Buffer.from('FRAME\n', 'latin1'), y, chroma]);
}

async function signIn(page) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

describe(`scanning labels and barcodes on a ${viewport} (${size.width}x${size.height})`, () => {
  let server;
  let browser;
  let context;
  let page;
  let camera;
  let hid;
  let drill;
  const work = mkdtempSync(join(tmpdir(), 'hi-scan-'));
  const step = steps(test, () => page, viewport, 'scan');

  before(async () => {
    rmSync(join(screenshotsDir, `${viewport}-scan-failure.png`), { force: true });
    server = await startServer();
    // No fake camera here: this browser has none at all.
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: size, baseURL: server.url });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
  });

  after(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await camera?.browser.close().catch(() => {});
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  step('a person with a drill, a lamp with a barcode and a garage', async () => {
    await page.goto('/signup');
    await page.getByLabel('Name').fill('Inès Moreau');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await visible(page.getByRole('heading', { name: 'Dashboard' }));
    hid = await page.getByLabel('Household').inputValue();
    const garage = await api(page, `/households/${hid}/locations`, { name: 'Garage' });
    drill = await api(page, `/households/${hid}/items`, { name: 'Cordless drill', location_id: garage.id });
    await api(page, `/households/${hid}/items`, { name: 'Desk lamp', barcode: '4006381333931' });
    assert.match(drill.asset_id, /^\d{3,}-\d{3}$/);
  });

  step('without a camera the Scan page says so, and a typed label number opens its item', async () => {
    await nav(page, 'Scan').click();
    await visible(page.getByRole('heading', { level: 1, name: 'Scan' }));
    assert.equal(await page.title(), 'Scan · Home Inventory');
    await visible(page.getByRole('alert').filter({ hasText: /camera/i }));
    await screenshot(page, viewport, 'scan-no-camera');
    await page.getByLabel('Type a code').fill(drill.asset_id);
    await page.getByRole('button', { name: 'Look up' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Cordless drill' }));
    await visible(page.getByText(`Asset id ${drill.asset_id}`));
  });

  step('a typed product barcode lists the items with it, or starts a new item with it', async () => {
    await nav(page, 'Scan').click();
    await page.getByLabel('Type a code').fill('4006381333931');
    await page.getByRole('button', { name: 'Look up' }).click();
    const matches = page.getByRole('list', { name: 'Items with this barcode' });
    await visible(matches.getByRole('link', { name: 'Desk lamp' }));

    await page.getByLabel('Type a code').fill('036000291452');
    await page.getByRole('button', { name: 'Look up' }).click();
    await visible(page.getByText('No item has this barcode yet.'));
    await page.getByRole('link', { name: 'Add an item with this barcode' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Add item' }));
    assert.equal(await page.getByLabel('Barcode').inputValue(), '036000291452');

    await nav(page, 'Scan').click();
    await page.getByLabel('Type a code').fill('hello');
    await page.getByRole('button', { name: 'Look up' }).click();
    await visible(page.getByText(/not a label's number/));
  });

  step('a label opened signed out goes through the sign-in page to its item', async () => {
    const digits = drill.asset_id.replace('-', '');
    await page.getByRole('button', { name: 'Account' }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await visible(page.getByRole('heading', { name: 'Sign in', exact: true }));
    await page.goto(`/q/${digits}`);
    await visible(page.getByRole('heading', { name: 'Sign in', exact: true }));
    assert.equal(new URL(page.url()).searchParams.get('next'), `/q/${digits}`);
    await signIn(page);
    await visible(page.getByRole('heading', { level: 1, name: 'Cordless drill' }));
    assert.equal(new URL(page.url()).pathname, `/items/${drill.id}`);
  });

  step('an unknown label says no item or location has it', async () => {
    await page.goto('/q/987654');
    await visible(page.getByText('No item or location has the label 987-654.'));
    await screenshot(page, viewport, 'label-unknown');
  });

  step("the fake camera shows the drill's printed label and its page opens", async () => {
    const templates = (await api(page, `/households/${hid}/labels/templates`)).items;
    const stock = templates.find((t) => t.id === 'avery-5160');
    assert.ok(stock, 'the Avery 5160 sheet is offered');
    const pdf = await labelsPdf(page, hid, { template: stock.id, item_ids: [drill.id] });
    assert.equal(pdf.subarray(0, 4).toString('latin1'), '%PDF');
    const pdfPath = join(work, 'label.pdf');
    writeFileSync(pdfPath, pdf);
    // The first label of the sheet, in grey pixels.
    const px = (mm) => Math.round((mm / 25.4) * DPI);
    execFileSync('pdftoppm', [
      '-r', String(DPI), '-gray', '-f', '1', '-l', '1', '-singlefile',
      '-x', String(px(stock.margin_left_mm)), '-y', String(px(stock.margin_top_mm)),
      '-W', String(px(stock.label_width_mm)), '-H', String(px(stock.label_height_mm)),
      pdfPath, join(work, 'label'),
    ]);
    const video = join(work, 'label.y4m');
    writeFileSync(video, y4m(readPgm(readFileSync(join(work, 'label.pgm')))));

    const b = await launchBrowser({
      args: [
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-video-capture=${video}`,
      ],
    });
    const ctx = await b.newContext({ viewport: size, baseURL: server.url });
    ctx.setDefaultTimeout(10_000);
    camera = { browser: b, page: await ctx.newPage() };
    const cam = camera.page;
    const fetched = [];
    const workers = [];
    cam.on('request', (r) => fetched.push(new URL(r.url()).pathname));
    cam.on('worker', (w) => workers.push(new URL(w.url()).pathname));
    await cam.goto('/signin');
    await signIn(cam);
    await visible(cam.getByRole('heading', { name: 'Dashboard' }));
    // The decoder is loaded by the Scan page only.
    assert.ok(!fetched.some((p) => p.includes('qr-decoder')), `loaded before the Scan page: ${fetched}`);
    await nav(cam, 'Scan').click();
    await visible(cam.getByRole('heading', { level: 1, name: 'Scan' }));
    await visible(cam.getByLabel('Camera view for scanning'));
    await visible(cam.getByRole('heading', { level: 1, name: 'Cordless drill' }), 20_000);
    assert.equal(new URL(cam.url()).pathname, `/items/${drill.id}`);
    assert.deepEqual(workers, ['/qr-decoder_loader.js'], 'the QR decoder was started on the Scan page');
  });
});
