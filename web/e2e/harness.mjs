// Starts the real server on a free loopback port with a fresh database, and a headless
// Chromium to drive it. Everything is found by role and accessible name, as people do.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const required = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set (see web/e2e/README.md)`);
  return value;
};

export const screenshotsDir = process.env.HI_SCREENSHOTS || join(process.cwd(), 'screenshots');

/** A loopback port nothing listens on right now. */
export async function freePort() {
  const probe = createServer();
  await new Promise((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', resolve);
  });
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * Starts the server; resolves with its base URL once it is listening. Its `PUBLIC_URL` is
 * its own address, so the links it makes (upload and file addresses, invitations) lead back
 * to it. `extraEnv` is added to its environment; a function is given the port first (for a
 * `PUBLIC_URL` on another host name of this machine, such as `http://localhost:<port>`).
 */
export async function startServer(extraEnv = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'hi-e2e-'));
  const port = await freePort();
  const env = typeof extraEnv === 'function' ? extraEnv(port) : extraEnv;
  const child = spawn(required('HI_BIN'), [], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      // Unset: the web app built into a release binary (`cargo xtask dist`) is served.
      ...(process.env.HI_STATIC_DIR ? { STATIC_DIR: process.env.HI_STATIC_DIR } : {}),
      BIND: `127.0.0.1:${port}`,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      RUST_LOG: process.env.RUST_LOG || 'info',
      NO_COLOR: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${log}`)), 30_000);
    const onData = (chunk) => {
      log += chunk.toString();
      // eslint-disable-next-line no-control-regex
      const plain = log.replace(/\x1b\[[0-9;]*m/g, '');
      const match = plain.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}:\n${log}`));
    });
  });
  // Keep draining its output so it never blocks on a full pipe.
  child.stdout.resume();
  child.stderr.resume();
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('exit', () => child.kill('SIGKILL'));
  return { url, stop };
}

const chromiumOptions = (args) => ({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    ...args,
  ],
});

/** Starts headless Chromium; `args` are added to its command line (a fake camera, say). */
export async function launchBrowser({ args = [] } = {}) {
  return chromium.launch(chromiumOptions(args));
}

/**
 * Starts Chromium with a profile kept in `userDataDir`, as a person's browser keeps it:
 * closing and launching again with the same folder is a browser restart.
 */
export async function launchProfile(userDataDir, contextOptions = {}) {
  return chromium.launchPersistentContext(userDataDir, { ...chromiumOptions([]), ...contextOptions });
}

/**
 * Saves `<viewport>-<name>.png`: the whole page as it would look on a screen tall enough to
 * show all of it (header on top, phone navigation at the bottom), without passing notices.
 */
export async function screenshot(page, viewport, name) {
  mkdirSync(screenshotsDir, { recursive: true });
  const dismiss = page.getByRole('button', { name: 'Dismiss' });
  if (await dismiss.isVisible()) await dismiss.click();
  const size = page.viewportSize();
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: size.width, height: Math.max(size.height, height) });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(screenshotsDir, `${viewport}-${name}.png`) });
  await page.setViewportSize(size);
}

/** Waits until the locator is visible (fails the test after the timeout). */
export async function visible(locator, timeout = 10_000) {
  await locator.waitFor({ state: 'visible', timeout });
  return locator;
}

/** Waits until the locator is gone. */
export async function gone(locator, timeout = 10_000) {
  await locator.waitFor({ state: 'hidden', timeout });
}

/**
 * `step(name, fn)` for tests whose steps build on each other: after one fails, the rest are
 * skipped, and the failing page is saved as `<viewport>-<name>-failure.png`. `page()` gives
 * the page at the time of the failure.
 */
export function steps(test, page, viewport, name) {
  let failed = false;
  return (title, fn) =>
    test(title, async (t) => {
      if (failed) return t.skip('an earlier step failed');
      try {
        await fn(t);
      } catch (error) {
        failed = true;
        await screenshot(page(), viewport, `${name}-failure`).catch(() => {});
        throw error;
      }
    });
}
