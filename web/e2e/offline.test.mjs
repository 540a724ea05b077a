// Offline use on a phone: signed in and synced, the app opens, lists (with the photos'
// thumbnails), searches and edits with no network; every change made offline survives a reload and a browser restart and
// reaches the server exactly once when the network returns. Edits of different fields made
// elsewhere meanwhile merge; edits of the same field show the conflict view. A session that
// ended stops the sending until the person signs in again; two tabs send each change once;
// a copy cleared by the browser is downloaded again. Checked through the API, as the server
// has it.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { gone, launchProfile, screenshot, startServer, steps, visible } from './harness.mjs';

const viewport = 'phone';

/** A PNG of one colour (a photo of something orange). */
function png(width, height) {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes) => {
    let c = 0xffffffff;
    for (const b of bytes) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(crc(body));
    return Buffer.concat([head, body, tail]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array(width).fill([240, 120, 20]).flat())]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(Array(height).fill(row)))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const contextOptions = { viewport: { width: 375, height: 740 } };
const email = 'sam.offline@example.com';
const password = 'correct horse battery';

describe('offline use on a phone (375x740)', () => {
  let server;
  let profile;
  let context;
  let page;
  let household;
  let cookie;
  const step = steps(test, () => page, viewport, 'offline');

  /** The API as another program (or another device) sees it, signed in as the same person. */
  async function api(method, path, body, headers = {}) {
    const response = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: {
        cookie,
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  async function signInElsewhere() {
    const response = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    assert.equal(response.status, 200);
    cookie = response.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  }

  /** Every item of the household on the server, trashed ones too, by name. */
  async function serverItems() {
    const live = (await api('GET', `/households/${household}/items?limit=200`)).body.items;
    const trashed = (await api('GET', `/households/${household}/trash`)).body.items;
    return { live, trashed, named: (name) => [...live, ...trashed].filter((i) => i.name === name) };
  }

  const itemList = () => page.getByRole('list', { name: 'Items' });
  const nav = (name) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  const badge = (text) => page.getByRole('status').getByRole('link', { name: text });

  /** Waits until the device's copy holds `n` records of the household in `store`. */
  async function copyHolds(n, store = 'items') {
    await page.waitForFunction(
      async ({ hid, n, store }) => {
        const names = (await indexedDB.databases()).map((d) => d.name).filter((d) => d.startsWith('home-inventory-'));
        if (names.length !== 1) return false;
        const db = await new Promise((resolve, reject) => {
          const open = indexedDB.open(names[0]);
          open.onsuccess = () => resolve(open.result);
          open.onerror = () => reject(open.error);
        });
        try {
          const count = await new Promise((resolve, reject) => {
            const request = db
              .transaction(store)
              .objectStore(store)
              .count(IDBKeyRange.bound(`${hid}/`, `${hid}/\uffff`));
            request.onsuccess = () => resolve(request.result);
            request.onerror = () => reject(request.error);
          });
          return count === n;
        } finally {
          db.close();
        }
      },
      { hid: household, n, store },
      { timeout: 15_000 },
    );
  }

  async function openItem(name) {
    await nav('Items').click();
    await itemList().getByRole('link', { name }).click();
    await visible(page.getByRole('heading', { level: 1, name }));
  }

  async function editItem(name, fill) {
    await openItem(name);
    await page.getByRole('link', { name: 'Edit', exact: true }).click();
    await visible(page.getByRole('heading', { name: 'Edit item' }));
    await fill();
    await page.getByRole('button', { name: 'Save' }).click();
  }

  async function restart() {
    await context.close();
    context = await launchProfile(profile, { ...contextOptions, baseURL: server.url });
    context.setDefaultTimeout(10_000);
    page = context.pages()[0] ?? (await context.newPage());
  }

  before(async () => {
    server = await startServer();
    profile = mkdtempSync(join(tmpdir(), 'hi-profile-'));
    context = await launchProfile(profile, { ...contextOptions, baseURL: server.url });
    context.setDefaultTimeout(10_000);
    page = context.pages()[0] ?? (await context.newPage());
    if (process.env.HI_DEBUG) page.on('console', (m) => console.log('console:', m.type(), m.text()));
  });

  after(async () => {
    await context?.close().catch(() => {});
    await server?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  step('signed up with a few things recorded, the device keeps a copy', async () => {
    await page.goto('/signup');
    await page.getByLabel('Name').fill('Sam Ortiz');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await visible(page.getByRole('heading', { name: 'Dashboard' }));
    await signInElsewhere();
    household = (await api('GET', '/households')).body.items[0].id;
    const garage = (await api('POST', `/households/${household}/locations`, { name: 'Garage' })).body;
    const shelf = (await api('POST', `/households/${household}/locations`, { name: 'Shelf', parent_id: garage.id })).body;
    const attic = (await api('POST', `/households/${household}/locations`, { name: 'Attic' })).body;
    const made = [];
    for (const item of [
      { name: 'Cordless drill', location_id: shelf.id, tags: ['Tools'], brand: 'Bosch' },
      { name: 'Camping stove', location_id: attic.id, tags: ['Camping'] },
      { name: 'Old lamp', location_id: attic.id },
      { name: 'Claw hammer', location_id: garage.id, tags: ['Tools'], notes: 'framing hammer' },
    ]) {
      const answer = await api('POST', `/households/${household}/items`, item);
      assert.equal(answer.status, 201);
      made.push(answer.body);
    }
    // A photo of the drill: announced, sent, checked.
    const photo = png(64, 48);
    const drill = made[0].id;
    const announced = await api('POST', `/households/${household}/items/${drill}/attachments`, {
      kind: 'photo',
      filename: 'drill.png',
      content_type: 'image/png',
      size: photo.length,
    });
    assert.equal(announced.status, 201);
    const sent = await fetch(announced.body.upload.url, {
      method: announced.body.upload.method,
      headers: announced.body.upload.headers,
      body: photo,
    });
    assert.ok(sent.ok, `upload: ${sent.status}`);
    const completed = await api('POST', `/households/${household}/items/${drill}/attachments/${announced.body.id}/complete`);
    assert.equal(completed.status, 200);
    await page.reload();
    await visible(page.getByRole('heading', { name: 'Dashboard' }));
    await copyHolds(4);
    await copyHolds(1, 'thumbs');
    await visible(badge('All changes saved'));
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15_000 });
  });

  step('offline, a reload opens the items, search and filters work from the copy', async () => {
    await context.setOffline(true);
    await page.reload();
    await visible(page.getByRole('heading', { name: 'Dashboard' }));
    await visible(page.getByText('Offline', { exact: true }));
    await nav('Items').click();
    const shown = (expected) =>
      page.waitForFunction(
        (expected) =>
          JSON.stringify([...document.querySelectorAll('ul[aria-label="Items"] .item-name')].map((e) => e.textContent).sort()) ===
          JSON.stringify(expected),
        expected,
      );
    await shown(['Camping stove', 'Claw hammer', 'Cordless drill', 'Old lamp']);
    // The drill's photo shows from the device.
    const thumb = itemList().getByRole('listitem').filter({ hasText: 'Cordless drill' }).locator('img');
    await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await thumb.elementHandle());
    assert.match(await thumb.getAttribute('src'), /^blob:/);
    await page.getByLabel('Search items').fill('DRILL');
    await shown(['Cordless drill']);
    // The same fields as the server searches: the notes.
    await page.getByLabel('Search items').fill('framing');
    await shown(['Claw hammer']);
    await page.getByRole('button', { name: 'Clear filters' }).first().click();
    await shown(['Camping stove', 'Claw hammer', 'Cordless drill', 'Old lamp']);
    await page.getByLabel('Tag').selectOption('Tools');
    await shown(['Claw hammer', 'Cordless drill']);
    await screenshot(page, viewport, 'offline-items');
    await page.getByRole('button', { name: 'Clear filters' }).first().click();
    await shown(['Camping stove', 'Claw hammer', 'Cordless drill', 'Old lamp']);
    await openItem('Cordless drill');
    await visible(page.getByText('Bosch'));
  });

  step('offline, an item is added with a photo, one edited and one moved to the trash', async () => {
    await nav('Items').click();
    await page.getByRole('link', { name: 'Add item' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Tent');
    await page.getByRole('button', { name: 'Save' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Tent' }));
    await page.getByLabel('Add photos').setInputFiles({ name: 'tent.png', mimeType: 'image/png', buffer: png(40, 30) });
    await visible(page.getByText('Saved on this device, sent when online'));

    // Two more of them, moved to the garage.
    await editItem('Camping stove', async () => {
      await page.getByLabel('Quantity').fill('2');
      const picker = page.getByLabel('Location', { exact: true });
      await picker.click();
      await picker.fill('garage');
      await page.getByRole('option', { name: 'Garage', exact: true }).click();
    });
    await visible(page.getByRole('heading', { level: 1, name: 'Camping stove' }));
    await visible(page.getByText('Garage', { exact: true }).first());

    await openItem('Old lamp');
    await page.getByRole('button', { name: 'Move to trash' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Items' }));
    await gone(itemList().getByRole('link', { name: 'Old lamp' }));
    await visible(badge('4 changes waiting'));
    assert.equal((await serverItems()).named('Tent').length, 0, 'nothing reached the server');
  });

  step('the changes survive an offline reload and a browser restart', async () => {
    await page.reload();
    await visible(itemList().getByRole('link', { name: 'Tent' }));
    await gone(itemList().getByRole('link', { name: 'Old lamp' }));
    await visible(badge('4 changes waiting'));

    await restart();
    await context.setOffline(true);
    await page.goto('/items');
    await visible(itemList().getByRole('link', { name: 'Tent' }));
    await visible(badge('4 changes waiting'));
    await badge('4 changes waiting').click();
    await visible(page.getByRole('heading', { name: 'Waiting changes' }));
    await visible(page.getByRole('link', { name: 'Add “Tent”' }));
    await visible(page.getByText('Add “tent.png”'));
    await visible(page.getByRole('link', { name: 'Edit “Camping stove”' }));
    await visible(page.getByRole('link', { name: 'Move “Old lamp” to the trash' }));
    await screenshot(page, viewport, 'offline-waiting');
  });

  step('online again, every change reaches the server once', async () => {
    await context.setOffline(false);
    await visible(badge('All changes saved'), 15_000);
    const items = await serverItems();
    assert.equal(items.named('Tent').length, 1);
    const files = (await api('GET', `/households/${household}/items/${items.named('Tent')[0].id}/attachments`)).body.items;
    assert.deepEqual(
      files.map((f) => [f.filename, f.kind, f.status, f.width]),
      [['tent.png', 'photo', 'ready', 40]],
    );
    assert.equal(items.named('Camping stove')[0].quantity, 2);
    assert.deepEqual(items.named('Camping stove')[0].location_path, ['Garage']);
    assert.ok(items.trashed.some((i) => i.name === 'Old lamp'), 'the lamp is in the trash');
    assert.ok(!items.live.some((i) => i.name === 'Old lamp'));
  });

  step('with a weak signal, the list comes from the device without waiting', async () => {
    // The server takes 8 s to list items; the page shows them long before.
    await context.route(
      (url) => url.pathname.endsWith('/items') && url.pathname.includes('/households/'),
      async (route) => {
        if (route.request().method() !== 'GET') return route.continue();
        await new Promise((resolve) => setTimeout(resolve, 8000));
        await route.continue().catch(() => {});
      },
    );
    try {
      await nav('Dashboard').click();
      await nav('Items').click();
      await visible(itemList().getByRole('link', { name: 'Tent' }), 5000);
    } finally {
      await context.unrouteAll({ behavior: 'ignoreErrors' });
    }
  });

  step('edits of different fields made here and elsewhere both stay', async () => {
    await context.setOffline(true);
    await editItem('Cordless drill', () => page.getByLabel('Notes', { exact: true }).fill('two batteries'));
    await visible(badge('1 change waiting'));
    const drill = (await serverItems()).named('Cordless drill')[0];
    const elsewhere = await api('PATCH', `/households/${household}/items/${drill.id}`, { model: 'GSR 18V' }, { 'if-match': `"${drill.version}"` });
    assert.equal(elsewhere.status, 200);
    await context.setOffline(false);
    await visible(badge('All changes saved'), 15_000);
    const now = (await serverItems()).named('Cordless drill')[0];
    assert.equal(now.notes, 'two batteries');
    assert.equal(now.model, 'GSR 18V');
  });

  step('an edit of a field changed elsewhere shows the conflict, and "keep mine" wins', async () => {
    await context.setOffline(true);
    await editItem('Claw hammer', () => page.getByLabel('Name', { exact: true }).fill('Claw hammer (blue)'));
    // Kept on the device before anything goes online: the save must not reach the server
    // directly (that would be the edit form's own conflict, not the queue's).
    await visible(badge('1 change waiting'));
    const hammer = (await serverItems()).named('Claw hammer')[0];
    await api('PATCH', `/households/${household}/items/${hammer.id}`, { name: 'Claw hammer (red)' }, { 'if-match': `"${hammer.version}"` });
    await context.setOffline(false);
    await visible(badge('1 change need you'), 15_000);
    await badge('1 change need you').click();
    await visible(page.getByRole('heading', { name: 'Someone else changed this item' }));
    await visible(page.getByRole('cell', { name: 'Claw hammer (red)' }));
    await screenshot(page, viewport, 'offline-conflict');
    await page.getByRole('button', { name: 'Reapply my changes' }).click();
    await visible(badge('All changes saved'), 15_000);
    assert.equal((await serverItems()).named('Claw hammer (blue)').length, 1);
  });

  step('an edit of an item trashed elsewhere meanwhile restores it and applies', async () => {
    await context.setOffline(true);
    await editItem('Tent', () => page.getByLabel('Notes', { exact: true }).fill('Two-person, green'));
    await visible(badge('1 change waiting'));
    const tent = (await serverItems()).named('Tent')[0];
    assert.equal((await api('DELETE', `/households/${household}/items/${tent.id}`)).status, 204);
    await context.setOffline(false);
    await visible(badge('1 change need you'), 15_000);
    await badge('1 change need you').click();
    await visible(page.getByText('This item was deleted elsewhere'));
    await page.getByRole('button', { name: 'Restore and apply' }).click();
    await visible(badge('All changes saved'), 15_000);
    const now = (await serverItems()).named('Tent');
    assert.equal(now.length, 1);
    assert.equal(now[0].deleted_at, undefined, 'back from the trash');
    assert.equal(now[0].notes, 'Two-person, green');
  });

  step('a reply lost after the server saved the item makes no second one', async () => {
    let cut = false;
    await context.route('**/api/v1/households/*/items', async (route) => {
      if (route.request().method() === 'POST' && !cut) {
        cut = true;
        await route.fetch();
        await route.abort('connectionreset');
      } else {
        await route.continue();
      }
    });
    await nav('Items').click();
    await page.getByRole('link', { name: 'Add item' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Lantern');
    await page.getByRole('button', { name: 'Save' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Lantern' }));
    await visible(badge('All changes saved'), 20_000);
    await context.unrouteAll();
    assert.ok(cut);
    assert.equal((await serverItems()).named('Lantern').length, 1);
  });

  step('two tabs send a change made offline once', async () => {
    await context.setOffline(true);
    const other = await context.newPage();
    await other.goto('/items');
    await visible(other.getByRole('list', { name: 'Items' }).getByRole('link', { name: 'Tent' }));
    await nav('Items').click();
    await page.getByRole('link', { name: 'Add item' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Bicycle pump');
    await page.getByRole('button', { name: 'Save' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Bicycle pump' }));
    const sent = [];
    context.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith(`/households/${household}/items`)) sent.push(request);
    });
    await context.setOffline(false);
    await visible(badge('All changes saved'), 15_000);
    await other.bringToFront();
    await visible(other.getByRole('status').getByRole('link', { name: 'All changes saved' }), 15_000);
    await other.close();
    assert.equal(sent.length, 1, 'one tab sent it');
    assert.equal((await serverItems()).named('Bicycle pump').length, 1);
  });

  step('a session that ended pauses the sending until the person signs in', async () => {
    await context.setOffline(true);
    await nav('Items').click();
    await page.getByRole('link', { name: 'Add item' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Kayak');
    await page.getByRole('button', { name: 'Save' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Kayak' }));
    // Signed out everywhere (the password changed on another device, say).
    const session = (await context.cookies()).find((c) => c.name.endsWith('hi_session'));
    await fetch(`${server.url}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { cookie: `${session.name}=${session.value}` },
    });
    await context.setOffline(false);
    await visible(page.getByRole('heading', { name: 'Sign in', exact: true }), 15_000);
    await visible(page.getByText('Sign in to send 1 change'));
    assert.equal((await serverItems()).named('Kayak').length, 0);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await visible(badge('All changes saved'), 15_000);
    assert.equal((await serverItems()).named('Kayak').length, 1);
  });

  step('a copy the browser cleared is downloaded again', async () => {
    await page.evaluate(async () => {
      for (const { name } of await indexedDB.databases()) {
        await new Promise((resolve) => {
          const request = indexedDB.deleteDatabase(name);
          request.onsuccess = request.onerror = request.onblocked = resolve;
        });
      }
    });
    await page.reload();
    await visible(page.getByText("This device's offline copy was cleared by the browser"));
    const live = (await serverItems()).live.length;
    const trashed = (await serverItems()).trashed.length;
    await copyHolds(live + trashed);
    await context.setOffline(true);
    await page.reload();
    await nav('Items').click();
    await visible(itemList().getByRole('link', { name: 'Kayak' }));
    await context.setOffline(false);
  });

  step('signing out with a change unsent asks first; the next person sees nothing of it', async () => {
    await context.setOffline(true);
    await nav('Items').click();
    await page.getByRole('link', { name: 'Add item' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Unsent sketch');
    await page.getByRole('button', { name: 'Save' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'Unsent sketch' }));
    // Back online, but the change can't get through yet when this person signs out.
    await context.route('**/api/v1/households/*/items', (route) =>
      route.request().method() === 'POST' ? route.abort('internetdisconnected') : route.continue(),
    );
    await context.setOffline(false);
    let asked = '';
    page.once('dialog', (dialog) => {
      asked = dialog.message();
      dialog.accept();
    });
    await page.getByRole('button', { name: 'Account' }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await visible(page.getByRole('heading', { name: 'Sign in', exact: true }));
    await context.unrouteAll();
    assert.match(asked, /1 change not sent yet will be lost/);
    const left = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
    assert.deepEqual(left.filter((n) => n.startsWith('home-inventory-')), [], 'the device keeps nothing of them');

    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Name').fill('Robin Ortiz');
    await page.getByLabel('Email').fill('robin.offline@example.com');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    // Back to the page the last person was on: their item, which this one can't see.
    await visible(page.getByRole('heading', { name: 'This item is not here' }));
    await visible(badge('All changes saved'));
    await nav('Items').click();
    await visible(page.getByRole('heading', { name: 'No items yet' }));
    assert.equal((await serverItems()).named('Unsent sketch').length, 0, 'their change was never sent');
  });
});
