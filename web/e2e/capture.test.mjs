// The capture page: photo after photo with the phone's camera (Chromium's fake one), each
// uploaded and recognised in the background, each object one tap from being an item. Once
// with photo recognition (a fake Messages API on loopback), once without it.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  gone,
  launchBrowser,
  screenshot,
  screenshotsDir,
  startServer,
  visible,
} from './harness.mjs';

const PHONE = { width: 375, height: 740 };
const DESKTOP = { width: 1280, height: 800 };
const FAKE_CAMERA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
const API_KEY = 'test-key';
const MODEL = 'claude-fake';

const runs = (viewport) => !process.env.HI_VIEWPORT || process.env.HI_VIEWPORT === viewport;

/**
 * A stand-in for the Anthropic Messages API: it checks what the real one would (key,
 * version, model, a JPEG photo, the record_items tool forced) and answers each request with
 * the next scripted list of objects as a `record_items` tool call, or a scripted
 * `{status}` failure; the last entry answers every request beyond the script.
 */
async function startFakeAnthropic(script) {
  const requests = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      const refuse = (status, message) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message } }));
      };
      if (req.method !== 'POST' || req.url !== '/v1/messages') return refuse(404, 'not found');
      let body;
      try {
        body = JSON.parse(raw);
      } catch {
        return refuse(400, 'the body is not JSON');
      }
      const images = (body.messages ?? [])
        .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
        .filter((block) => block.type === 'image');
      const problems = [];
      if (req.headers['x-api-key'] !== API_KEY) problems.push('x-api-key');
      if (req.headers['anthropic-version'] !== '2023-06-01') problems.push('anthropic-version');
      if (body.model !== MODEL) problems.push(`model ${body.model}`);
      if (!(body.max_tokens > 0)) problems.push('max_tokens');
      if (body.tool_choice?.type !== 'tool' || body.tool_choice?.name !== 'record_items') {
        problems.push('tool_choice');
      }
      if (!body.tools?.some((t) => t.name === 'record_items')) problems.push('tools');
      const jpeg = (block) =>
        block.source?.type === 'base64' &&
        block.source?.media_type === 'image/jpeg' &&
        Buffer.from(block.source.data, 'base64').subarray(0, 2).equals(Buffer.from([0xff, 0xd8]));
      if (images.length === 0 || !images.every(jpeg)) problems.push('image');
      requests.push({ body, images: images.length, problems });
      if (problems.length > 0) return refuse(problems.includes('x-api-key') ? 401 : 400, problems.join('; '));
      const items = script[Math.min(requests.length, script.length) - 1];
      if (!Array.isArray(items)) {
        // A scripted failure the server is told not to retry.
        res.writeHead(items.status, { 'content-type': 'application/json', 'x-should-retry': 'false' });
        return res.end(JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: `msg_fake_${requests.length}`,
          type: 'message',
          role: 'assistant',
          model: MODEL,
          content: [{ type: 'tool_use', id: `toolu_fake_${requests.length}`, name: 'record_items', input: { items } }],
          stop_reason: 'tool_use',
          stop_sequence: null,
          usage: { input_tokens: 1200, output_tokens: 150 },
        }),
      );
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** One describe block: a server, a browser with a fake camera, and steps that build on each other. */
function journey(title, viewport, size, { ai }, steps) {
  describe(title, { skip: !runs(viewport) && `HI_VIEWPORT=${process.env.HI_VIEWPORT}` }, () => {
    const world = { viewport };
    let failed = false;
    const failure = `${viewport}-capture-failure`;

    before(async () => {
      rmSync(join(screenshotsDir, `${failure}.png`), { force: true });
      if (ai) {
        world.fake = await startFakeAnthropic(ai);
        world.server = await startServer({
          ANTHROPIC_API_KEY: API_KEY,
          ANTHROPIC_BASE_URL: world.fake.url,
          ANTHROPIC_MODEL: MODEL,
        });
      } else {
        world.server = await startServer();
      }
      world.browser = await launchBrowser({ args: FAKE_CAMERA });
      world.context = await world.browser.newContext({ viewport: size, baseURL: world.server.url });
      world.context.setDefaultTimeout(10_000);
      world.page = await world.context.newPage();
    });

    after(async () => {
      await world.guestContext?.close().catch(() => {});
      await world.context?.close().catch(() => {});
      await world.browser?.close().catch(() => {});
      await world.plainBrowser?.close().catch(() => {});
      await world.server?.stop();
      await world.fake?.stop();
    });

    for (const [name, fn] of steps) {
      test(name, async (t) => {
        if (failed) return t.skip('an earlier step failed');
        try {
          await fn(world, t);
        } catch (error) {
          failed = true;
          await screenshot(world.page, viewport, 'capture-failure').catch(() => {});
          throw error;
        }
      });
    }
  });
}

// ---------------------------------------------------------------- helpers

const nav = (page, name) =>
  page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
const shots = (page) => page.getByRole('list', { name: 'Shots' });
const shot = (page, n) => shots(page).getByRole('listitem', { name: `Photo ${n}`, exact: true });

async function noSidewaysScrolling(page) {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  assert.equal(overflow, 0, 'the page scrolls sideways');
}

async function signUp(page, name, email) {
  await page.goto('/signup');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await visible(page.getByRole('heading', { name: 'Dashboard' }));
}

async function addLocation(page, name) {
  await nav(page, 'Locations').click();
  await page.getByLabel('Location name').fill(name);
  await page.getByRole('button', { name: 'Add location' }).click();
  await visible(page.getByRole('list', { name: 'Location tree' }).getByText(name, { exact: true }));
}

/** An item of the household as the API has it, found by name, with its photos. */
async function itemNamed(page, name) {
  const hid = await page.getByLabel('Household').inputValue();
  return page.evaluate(
    async ([hid, name]) => {
      const get = async (path) => {
        const res = await fetch(`/api/v1/households/${hid}${path}`);
        if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
        return res.json();
      };
      const list = await get(`/items?q=${encodeURIComponent(name)}`);
      const item = list.items.find((i) => i.name === name);
      if (!item) return null;
      const photos = await get(`/items/${item.id}/attachments`);
      return { ...item, photos: photos.items.filter((a) => a.kind === 'photo') };
    },
    [hid, name],
  );
}

async function openCapture(page) {
  await nav(page, 'Capture').click();
  await visible(page.getByRole('heading', { level: 1, name: 'Capture' }));
  assert.equal(await page.title(), 'Capture · Home Inventory');
  // The fake camera is live once the shutter can be pressed.
  const shutter = page.getByRole('button', { name: 'Take photo' });
  await page.waitForFunction((button) => !button.disabled, await shutter.elementHandle());
  return shutter;
}

// ---------------------------------------------------------------- with recognition

const DRILL = {
  photo: 1,
  name: 'Cordless drill',
  brand: 'Bosch',
  estimated_value: 89.5,
  confidence: 0.9,
  tags: ['tools'],
};

journey(
  'capture on a phone (375x740), with photo recognition',
  'phone',
  PHONE,
  {
    ai: [
      [DRILL],
      // A second look at the same shelf: the drill again, with its model this time, and a
      // spirit level the model places in the kitchen.
      [
        { ...DRILL, model: 'GSR 12V-15', confidence: 0.6 },
        { photo: 1, name: 'Spirit level', confidence: 0.85, location: 'Kitchen' },
      ],
      // The shot that is discarded.
      [DRILL],
      // The service is overloaded once, then answers.
      { status: 529 },
      [{ photo: 1, name: 'Tape measure', confidence: 0.3 }],
    ],
  },
  [
    [
      'a new household with two locations',
      async ({ page }) => {
        await signUp(page, 'Ana Ruiz', 'ana.capture@example.com');
        await addLocation(page, 'Garage');
        await addLocation(page, 'Kitchen');
      },
    ],
    [
      'the capture page shows the camera, a shutter and the location for new items',
      async ({ page }) => {
        await openCapture(page);
        await visible(page.locator('video'));
        const picker = page.getByRole('combobox', { name: 'Location for new items' });
        await picker.click();
        await picker.fill('gar');
        await page.getByRole('option', { name: 'Garage', exact: true }).click();
        assert.equal(await picker.inputValue(), 'Garage');
        // The shutter is at the bottom of the screen, above the navigation, in reach of a thumb.
        const box = await page.getByRole('button', { name: 'Take photo' }).boundingBox();
        assert.ok(box.width >= 64 && box.height >= 64, 'the shutter is big');
        assert.ok(box.y + box.height > PHONE.height - 170, `the shutter is low on the screen (${box.y})`);
        assert.ok(box.y + box.height <= PHONE.height, 'the shutter is on the screen');
        await noSidewaysScrolling(page);
      },
    ],
    [
      'a photo is uploaded and recognised: the suggestion says what, how sure and how much',
      async ({ page, fake }) => {
        await page.getByRole('button', { name: 'Take photo' }).click();
        const first = shot(page, 1);
        await visible(first);
        const add = first.getByRole('button', { name: 'Add Cordless drill' });
        await visible(add, 20_000);
        await visible(first.getByText('likely'));
        await visible(first.getByText(/Bosch · about 89\.50 USD/));
        await visible(first.getByText('Garage'));
        assert.equal(fake.requests.length, 1);
        assert.equal(fake.requests[0].images, 1);
        // The prompt told the model about the household's locations.
        assert.match(JSON.stringify(fake.requests[0].body.messages), /Garage/);
        await noSidewaysScrolling(page);
        await screenshot(page, 'phone', 'capture-suggestion');
      },
    ],
    [
      'one tap adds the item, in the chosen location, with the photo',
      async ({ page }) => {
        const first = shot(page, 1);
        await first.getByRole('button', { name: 'Add Cordless drill' }).click();
        await visible(first.getByText('Added', { exact: true }));
        const link = first.getByRole('link', { name: 'Cordless drill' });
        await visible(link);
        await link.click();
        await visible(page.getByRole('heading', { level: 1, name: 'Cordless drill' }));
        await visible(page.getByText('Garage', { exact: true }));
        const photos = page.getByRole('region', { name: 'Photos' });
        await visible(photos.getByRole('img', { name: 'Photo of Cordless drill' }));
        await visible(page.getByText('Bosch', { exact: true }));
        const item = await itemNamed(page, 'Cordless drill');
        assert.deepEqual(item.location_path, ['Garage']);
        assert.equal(item.estimated_value.amount_minor, 8950);
        assert.deepEqual(item.tags, ['tools']);
        assert.equal(item.photos.length, 1);
        assert.ok(item.photos[0].primary, 'the photo is the primary one');
        assert.ok(item.thumbnail_url, 'the item has a thumbnail');
        await noSidewaysScrolling(page);
      },
    ],
    [
      'the location is kept; a second shot gives two things: one added where it was seen, one to the drill',
      async ({ page, fake }) => {
        await openCapture(page);
        assert.equal(await page.getByRole('combobox', { name: 'Location for new items' }).inputValue(), 'Garage');
        // The queue waited while the item was looked at.
        await visible(shot(page, 1).getByRole('link', { name: 'Cordless drill' }));
        await page.getByRole('button', { name: 'Take photo' }).click();
        const second = shot(page, 2);
        await visible(second);
        // Newest first.
        const titles = await shots(page).getByRole('heading', { level: 2 }).allTextContents();
        assert.deepEqual(titles, ['Photo 2', 'Photo 1']);
        await visible(second.getByRole('button', { name: 'Add Spirit level' }), 20_000);
        await visible(second.getByText('maybe'));
        assert.equal(fake.requests.length, 2);

        // Seen in the kitchen: accepted, so it goes there instead of the garage.
        await second.getByLabel('Put it in Kitchen (seen in the photo)').check();
        await second.getByRole('button', { name: 'Add Spirit level' }).click();
        await visible(second.getByRole('link', { name: 'Spirit level' }));

        // The drill is already in the inventory: this photo goes to it, and its empty model
        // is filled in; its brand stays.
        await second.getByRole('button', { name: 'Add to existing item…' }).click();
        await second.getByLabel('Find the item').fill('drill');
        await second.getByRole('button', { name: /Add to Cordless drill/ }).click();
        await visible(second.getByText(/Added to/));
        await visible(second.getByRole('link', { name: 'Cordless drill' }));
        await noSidewaysScrolling(page);
        await screenshot(page, 'phone', 'capture-added');

        const level = await itemNamed(page, 'Spirit level');
        assert.deepEqual(level.location_path, ['Kitchen']);
        assert.equal(level.photos.length, 1, 'the spirit level has the photo');
        const drill = await itemNamed(page, 'Cordless drill');
        assert.equal(drill.photos.length, 2, 'the drill has a copy of the photo too');
        assert.equal(drill.model, 'GSR 12V-15');
        assert.equal(drill.brand, 'Bosch');
        assert.deepEqual(drill.location_path, ['Garage']);
      },
    ],
    [
      'a shot can be discarded, and its photo is gone',
      async ({ page }) => {
        await page.getByRole('button', { name: 'Take photo' }).click();
        const third = shot(page, 3);
        await visible(third.getByRole('button', { name: 'Add Cordless drill' }), 20_000);
        await third.getByRole('button', { name: 'Discard Photo 3' }).click();
        await gone(third);
        const hid = await page.getByLabel('Household').inputValue();
        const unfiled = await page.evaluate(async (hid) => {
          const res = await fetch(`/api/v1/households/${hid}/attachments`);
          return (await res.json()).items.length;
        }, hid);
        assert.equal(unfiled, 0, 'no unfiled photo is left');
      },
    ],
    [
      'an upload cut off and a recognition that failed are each retried',
      async ({ page, fake }) => {
        await page.route('**/*', (route) =>
          route.request().method() === 'PUT' ? route.abort('internetdisconnected') : route.continue(),
        );
        await page.getByRole('button', { name: 'Take photo' }).click();
        const fourth = shot(page, 4);
        await visible(fourth.getByText('Failed', { exact: true }));
        await visible(fourth.getByRole('alert').getByText(/The upload did not get through/));
        await page.unroute('**/*');
        // The bytes take a moment to reach the server: it answers `conflict` to the first
        // check, and the page asks again by itself.
        let checks = 0;
        await page.route('**/attachments/*/complete', (route) => {
          checks += 1;
          if (checks > 1) return route.continue();
          return route.fulfill({
            status: 409,
            contentType: 'application/json',
            body: JSON.stringify({ error: { code: 'conflict', message: 'The upload has not arrived yet.' } }),
          });
        });
        await fourth.getByRole('button', { name: 'Retry' }).click();

        // Sent this time; the recognition service is overloaded, in the server's words.
        await visible(fourth.getByRole('alert').getByText(/overloaded/), 20_000);
        await page.unroute('**/attachments/*/complete');
        assert.equal(checks, 2, 'the check was asked again after the conflict');
        assert.equal(fake.requests.length, 4);
        await visible(fourth.getByRole('button', { name: 'Type a name instead' }));
        await noSidewaysScrolling(page);
        await fourth.getByRole('button', { name: 'Retry' }).click();
        await visible(fourth.getByRole('button', { name: 'Add Tape measure' }), 20_000);
        await visible(fourth.getByText('a guess'));
        assert.equal(fake.requests.length, 5);

        // Edited before adding: another name, a value, and no location.
        await fourth.getByRole('button', { name: 'Edit Tape measure' }).click();
        await fourth.getByLabel('Name', { exact: true }).fill('Laser tape measure');
        await fourth.getByLabel('Brand', { exact: true }).fill('Leica');
        await fourth.getByLabel('Estimated value').fill('abc');
        await fourth.getByRole('button', { name: 'Add Laser tape measure' }).click();
        await visible(fourth.getByText(/must be a number/));
        await fourth.getByLabel('Estimated value').fill('120');
        await fourth.getByRole('button', { name: 'Add Laser tape measure' }).click();
        await visible(fourth.getByRole('link', { name: 'Laser tape measure' }));
        const tape = await itemNamed(page, 'Laser tape measure');
        assert.equal(tape.brand, 'Leica');
        assert.equal(tape.estimated_value.amount_minor, 12000);
        assert.deepEqual(tape.location_path, ['Garage']);
        assert.equal(tape.photos.length, 1);
      },
    ],
    [
      'a viewer gets no camera, only why',
      async (world) => {
        const { page, browser, server } = world;
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
        world.guestContext = await browser.newContext({ viewport: PHONE, baseURL: server.url });
        world.guestContext.setDefaultTimeout(10_000);
        const guest = await world.guestContext.newPage();
        await signUp(guest, 'Leo Park', 'leo.capture@example.com');
        await guest.goto(`/invite/${code}`);
        await guest.getByRole('button', { name: 'Join household' }).click();
        await visible(guest.getByRole('heading', { name: 'Dashboard' }));
        await nav(guest, 'Capture').click();
        await visible(guest.getByRole('heading', { level: 1, name: 'Capture' }));
        await visible(guest.getByText(/You can look at this household's inventory but not add to it/));
        assert.equal(await guest.getByRole('button', { name: 'Take photo' }).count(), 0);
        assert.equal(await guest.getByRole('combobox', { name: 'Location for new items' }).count(), 0);
        assert.equal(await guest.locator('video').count(), 0);
        await noSidewaysScrolling(guest);
      },
    ],
  ],
);

// ---------------------------------------------------------------- without recognition

for (const [viewport, size] of [
  ['desktop', DESKTOP],
  ['phone', PHONE],
]) {
  journey(
    `capture on a ${viewport} (${size.width}x${size.height}), without photo recognition`,
    viewport,
    size,
    { ai: null },
    [
      [
        'a photo asks for a name, and becomes the item with that name',
        async ({ page }) => {
          await signUp(page, 'Noor Haddad', `noor.${viewport}@example.com`);
          await openCapture(page);
          await page.getByRole('button', { name: 'Take photo' }).click();
          const first = shot(page, 1);
          await visible(first.getByText('Ready', { exact: true }), 20_000);
          await visible(page.getByRole('status').getByText(/isn't set up on this server/));
          const name = first.getByLabel('Name', { exact: true });
          await name.fill('Garden hose');
          await first.getByRole('button', { name: 'Add item' }).click();
          const link = first.getByRole('link', { name: 'Garden hose' });
          await visible(link);
          await noSidewaysScrolling(page);
          await screenshot(page, viewport, 'capture-by-hand');
          await link.click();
          await visible(page.getByRole('heading', { level: 1, name: 'Garden hose' }));
          await visible(page.getByRole('region', { name: 'Photos' }).getByRole('img', { name: 'Photo of Garden hose' }));
          const item = await itemNamed(page, 'Garden hose');
          assert.equal(item.photos.length, 1);
          assert.deepEqual(item.location_path, []);
        },
      ],
      [
        'a name is needed before adding',
        async ({ page }) => {
          await openCapture(page);
          await page.getByRole('button', { name: 'Take photo' }).click();
          const second = shot(page, 2);
          await visible(second.getByLabel('Name', { exact: true }), 20_000);
          await second.getByRole('button', { name: 'Add item' }).click();
          const name = second.getByLabel('Name', { exact: true });
          await page.waitForFunction((el) => el.getAttribute('aria-invalid') === 'true', await name.elementHandle());
          assert.equal(await second.getByRole('link').count(), 0);
          await name.fill('Watering can');
          await second.getByRole('button', { name: 'Add item' }).click();
          await visible(second.getByRole('link', { name: 'Watering can' }));
        },
      ],
      [
        'a photo taken without a network is kept through a reload and sent when it returns',
        async ({ page, context }) => {
          await openCapture(page);
          await context.setOffline(true);
          await page.getByRole('button', { name: 'Take photo' }).click();
          const third = shot(page, 3);
          await visible(third.getByText(/reach the server/), 20_000);
          // A reload (or a closed browser) with no network: the shot is still there.
          await page.reload();
          await visible(page.getByRole('heading', { level: 1, name: 'Capture' }));
          const kept = shot(page, 1);
          await visible(kept.getByText(/reach the server/), 20_000);
          await context.setOffline(false);
          const name = kept.getByLabel('Name', { exact: true });
          await visible(name, 20_000);
          await name.fill('Rain barrel');
          await kept.getByRole('button', { name: 'Add item' }).click();
          await visible(kept.getByRole('link', { name: 'Rain barrel' }));
          const item = await itemNamed(page, 'Rain barrel');
          assert.equal(item.photos.length, 1);
          // Added: a later reload brings it back no more.
          await page.reload();
          await visible(page.getByRole('heading', { level: 1, name: 'Capture' }));
          await page.waitForTimeout(1000);
          assert.equal(await shots(page).getByRole('listitem').count(), 0);
        },
      ],
      [
        'without a camera, a photo is taken or chosen with the device instead',
        async (world) => {
          // A browser with no camera at all.
          world.plainBrowser = await launchBrowser();
          const context = await world.plainBrowser.newContext({ viewport: size, baseURL: world.server.url });
          context.setDefaultTimeout(10_000);
          const page = await context.newPage();
          try {
            await page.goto('/signin');
            await page.getByLabel('Email').fill(`noor.${viewport}@example.com`);
            await page.getByLabel('Password').fill('correct horse battery');
            await page.getByRole('button', { name: 'Sign in', exact: true }).click();
            await visible(page.getByRole('heading', { name: 'Dashboard' }));
            await nav(page, 'Capture').click();
            const picker = page.getByLabel('Choose or take a photo');
            await picker.waitFor({ state: 'attached' });
            assert.equal(await picker.getAttribute('accept'), 'image/*');
            assert.equal(await picker.getAttribute('capture'), 'environment');
            await visible(page.getByText(/camera/i).first());
            assert.equal(await page.getByRole('button', { name: 'Take photo' }).count(), 0);
            await noSidewaysScrolling(page);
            await screenshot(page, viewport, 'capture-no-camera');

            // A photo as a phone's camera app would hand it over: larger than sent.
            const jpeg = await page.evaluate(() => {
              const canvas = document.createElement('canvas');
              canvas.width = 3000;
              canvas.height = 2000;
              const g = canvas.getContext('2d');
              g.fillStyle = 'rgb(37 99 235)';
              g.fillRect(0, 0, 3000, 2000);
              return canvas.toDataURL('image/jpeg', 0.9).split(',')[1];
            });
            await picker.setInputFiles({ name: 'IMG_0001.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(jpeg, 'base64') });
            const first = shot(page, 1);
            await first.getByLabel('Name', { exact: true }).fill('Blue crate');
            await first.getByRole('button', { name: 'Add item' }).click();
            await visible(first.getByRole('link', { name: 'Blue crate' }));
            const crate = await itemNamed(page, 'Blue crate');
            assert.equal(crate.photos.length, 1);
            // Brought down to 2048 px on its long edge before it was sent.
            assert.deepEqual([crate.photos[0].width, crate.photos[0].height], [2048, 1365]);
          } finally {
            await context.close();
          }
        },
      ],
    ],
  );
}
