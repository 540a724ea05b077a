// Read-only share links: an owner makes one for the garage with prices hidden on the Share
// links page; a visitor with no account (a fresh browser context, no cookies) opens it on a
// phone, finds what is in the garage, does not find what is elsewhere, and sees no price;
// the owner sees the visit in the link's log and revokes it; the visitor's reload says the
// link was revoked.

import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { gone, launchBrowser, screenshot, screenshotsDir, startServer, steps, visible } from './harness.mjs';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 740 };

describe('share links, made on a desktop and opened on a phone', () => {
  let server;
  let browser;
  let owner;
  let page;
  let visitorContext;
  let visitor;
  let link;
  const step = steps(test, () => visitor ?? page, 'phone', 'share-links');

  before(async () => {
    rmSync(join(screenshotsDir, 'phone-share-links-failure.png'), { force: true });
    server = await startServer();
    browser = await launchBrowser();
    owner = await browser.newContext({ viewport: DESKTOP, baseURL: server.url });
    owner.setDefaultTimeout(10_000);
    page = await owner.newPage();
  });

  after(async () => {
    await visitorContext?.close().catch(() => {});
    await owner?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  step('an owner with a garage and a kitchen makes a link to the garage, without prices', async () => {
    await page.goto('/signup');
    await page.getByLabel('Name').fill('Alex Owner');
    await page.getByLabel('Email').fill('alex.share@example.com');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await visible(page.getByRole('heading', { name: 'Dashboard' }));

    // The inventory, made through the API with the owner's session.
    const me = await (await page.request.get('/api/v1/me')).json();
    const hid = me.households[0].id;
    const { currency } = await (await page.request.get(`/api/v1/households/${hid}`)).json();
    const place = async (name) =>
      (await (await page.request.post(`/api/v1/households/${hid}/locations`, { data: { name } })).json()).id;
    const garage = await place('Garage');
    const kitchen = await place('Kitchen');
    const add = async (data) => {
      const made = await page.request.post(`/api/v1/households/${hid}/items`, { data });
      assert.equal(made.status(), 201);
      return (await made.json()).id;
    };
    const drill = await add({
      name: 'Cordless drill',
      location_id: garage,
      estimated_value: { amount_minor: 12_345, currency },
    });
    // A photo of the drill: announced, uploaded to the address given, completed.
    const bytes = readFileSync(new URL('../icons/icon-192.png', import.meta.url));
    const files = `/api/v1/households/${hid}/items/${drill}/attachments`;
    const announced = await (
      await page.request.post(files, {
        data: { kind: 'photo', filename: 'drill.png', content_type: 'image/png', size: bytes.length },
      })
    ).json();
    const put = await page.request.put(announced.upload.url, { headers: announced.upload.headers, data: bytes });
    assert.ok(put.ok(), `upload: ${put.status()}`);
    const done = await page.request.post(`${files}/${announced.id}/complete`);
    assert.equal(done.status(), 200);
    await add({ name: 'Espresso machine', location_id: kitchen, estimated_value: { amount_minor: 54_321, currency } });

    await page.getByRole('button', { name: 'Account' }).click();
    await page.getByRole('link', { name: 'Share links' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Share links' }));
    assert.equal(await page.title(), 'Share links · Home Inventory');
    await visible(page.getByText('No share links yet.'));

    await page.getByLabel('Name', { exact: true }).fill('Insurer');
    const picker = page.getByLabel('What it shows', { exact: true });
    await picker.click();
    await picker.fill('gar');
    await page.getByRole('option', { name: 'Garage', exact: true }).click();
    await page.getByLabel('Expires after (days)').fill('14');
    await page.getByRole('checkbox', { name: 'Hide prices' }).check();
    await page.getByRole('button', { name: 'Create link' }).click();

    const url = page.getByLabel('Link for “Insurer”');
    await visible(url);
    link = await url.inputValue();
    assert.match(link, new RegExp(`^${server.url}/s/[A-Za-z0-9_-]{43}$`));
    assert.equal(await url.isEditable(), false);
    await visible(page.getByRole('button', { name: 'Copy' }));
    const row = page.getByRole('list', { name: 'Share links' }).getByRole('listitem').filter({ hasText: 'Insurer' });
    await visible(row.getByText('Garage and everything in it · prices hidden'));
    await visible(row.getByText(/0 uses · never used/));
    await screenshot(page, 'desktop', 'share-links');
  });

  step('a visitor with no account opens it on a phone and sees the garage only, without prices', async () => {
    visitorContext = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    visitorContext.setDefaultTimeout(10_000);
    assert.deepEqual(await visitorContext.cookies(), []);
    visitor = await visitorContext.newPage();
    const problems = [];
    visitor.on('pageerror', (error) => problems.push(error.message));
    visitor.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    await visitor.goto(link);
    await visible(visitor.getByRole('heading', { level: 1, name: 'Garage and everything in it' }));
    assert.equal(new URL(visitor.url()).pathname.startsWith('/s/'), true, 'no detour to sign in');
    await visible(visitor.getByText('My Home'));
    await visible(visitor.getByText(/^Read only · until /));

    const items = visitor.getByRole('list', { name: 'Items' });
    await visible(items.getByRole('button', { name: 'Cordless drill' }));
    assert.equal(await visitor.getByText('Espresso machine').count(), 0);
    await visitor.getByLabel('Search').fill('espresso');
    await visitor.getByRole('button', { name: 'Search' }).click();
    await visible(visitor.getByText('Nothing found.'));
    await visitor.getByLabel('Search').fill('drill');
    await visitor.getByRole('button', { name: 'Search' }).click();
    await visible(items.getByRole('button', { name: 'Cordless drill' }));
    assert.equal(await visitor.getByText(/123\.45|12,345|12345/).count(), 0, 'no price in the list');

    // Its photo comes through the link.
    const loaded = (img) => img.evaluate((el) => el.complete && el.naturalWidth > 0);
    const thumb = items.getByRole('listitem').filter({ hasText: 'Cordless drill' }).locator('img');
    await visible(thumb);
    await visitor.waitForFunction((el) => el.complete && el.naturalWidth > 0, await thumb.elementHandle());
    assert.match(await thumb.getAttribute('src'), /^\/api\/v1\/shared\/[A-Za-z0-9_-]{43}\/attachments\/[0-9a-f-]{36}\/thumbnail$/);

    await items.getByRole('button', { name: 'Cordless drill' }).click();
    await visible(visitor.getByRole('heading', { level: 2, name: 'Cordless drill' }));
    const photo = visitor.getByRole('img', { name: 'Photo of Cordless drill: drill.png' });
    await visible(photo);
    await visitor.waitForFunction((el) => el.complete && el.naturalWidth > 0, await photo.elementHandle());
    assert.equal(await loaded(photo), true);
    await visible(visitor.getByText('Prices, values and receipts are not shown through this link.'));
    assert.equal(await visitor.getByText(/123\.45|12,345|12345/).count(), 0, 'no price on the item');
    const width = await visitor.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= PHONE.width, `no sideways scrolling (${width})`);
    await screenshot(visitor, 'phone', 'shared-view');
    // Nothing of it was kept for the visitor: no cookie, no session.
    assert.deepEqual(await visitorContext.cookies(), []);
    // Signed out, the app asks who is there once (401 from /api/v1/me); nothing else fails.
    const unexpected = problems.filter((p) => !/401 \(Unauthorized\)/.test(p));
    assert.deepEqual(unexpected, []);
  });

  step('the owner sees the visit in the log and revokes the link', async () => {
    await page.reload();
    const row = page.getByRole('list', { name: 'Share links' }).getByRole('listitem').filter({ hasText: 'Insurer' });
    await visible(row.getByText(/\d+ uses · last used just now/));
    await row.getByRole('button', { name: 'Uses of Insurer' }).click();
    const log = page.getByRole('list', { name: 'Uses of Insurer' });
    await visible(log.getByText('item “Cordless drill”'));
    await visible(log.getByText('list', { exact: true }).first());
    await visible(log.getByText('search “drill”'));
    await visible(log.getByText('opened the link'));

    await row.getByRole('button', { name: 'Revoke Insurer' }).click();
    const confirm = page.getByRole('group', { name: /Revoke “Insurer”\?/ });
    await visible(confirm);
    await confirm.getByRole('button', { name: 'Revoke link' }).click();
    await gone(confirm);
    await visible(row.getByText('Revoked'));
    await gone(row.getByRole('button', { name: 'Revoke Insurer' }));
  });

  step("the visitor's reload says the link was revoked", async () => {
    await visitor.reload();
    await visible(visitor.getByRole('heading', { level: 1, name: 'This share link has expired or was revoked.' }));
    assert.equal(await visitor.getByText('Cordless drill').count(), 0);
    assert.equal(new URL(visitor.url()).pathname.startsWith('/s/'), true, 'no detour to sign in');
  });
});
