import type { BrowserContext, Frame, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentToken } from '../packages/server/src/test-support/api.js';
import { guideDemo, PROBES } from './guide-demo.js';
import { crmPage, openPage, type Stack, startStack } from './support.js';

// Where the guide says the softphone runs: a secure context, WebRTC, a microphone the page may use. Chromium
// here has fake media devices; "crm.test" resolves to 127.0.0.1 but is not a trustworthy origin, so a page
// there is an insecure context, like a business system served over plain http.

let stack: Stack;
let context: BrowserContext | undefined;

beforeAll(async () => {
  stack = await startStack({ browserArgs: ['--host-resolver-rules=MAP crm.test 127.0.0.1'] });
}, 60_000);
afterEach(async () => {
  await context?.close();
  context = undefined;
});
afterAll(async () => {
  await stack?.close();
});

type Probe = { code: string; action: string; message: string };

async function softphonePage(path: string, host = '127.0.0.1'): Promise<string> {
  const token = await agentToken(stack.center.server, '1001');
  stack.crm.page(
    path,
    crmPage(
      stack,
      guideDemo({ instanceId: 'demo', token, apiHost: `127.0.0.1:${new URL(stack.center.server.url).port}` }) + PROBES,
    ),
  );
  return stack.crm.url(path, host);
}

/** Waits for the environment checks (they run once, at registration) and returns the errors they raised. */
async function environmentErrors(target: Page | Frame): Promise<Probe[]> {
  // The same checks on demand: once they are done, the ones started at registration (earlier) are done too.
  await target.evaluate('APIs.checkEnvironment().then(() => new Promise((resolve) => setTimeout(resolve, 0)))');
  const errors = (await target.evaluate('window.__errors')) as Probe[];
  return errors.filter((e) => e.action === 'environment');
}

describe('the environment checks', () => {
  it('find nothing wrong on a secure page with WebRTC and a (fake) microphone', async () => {
    context = await stack.browser.newContext();
    const page = await openPage(context, await softphonePage('/secure'));
    expect(await environmentErrors(page)).toEqual([]);
    expect(await page.evaluate('APIs.checkEnvironment().then((found) => found.map((e) => e.code))')).toEqual([]);
  });

  it('report an <iframe> without allow="microphone" with its own code', async () => {
    context = await stack.browser.newContext();
    const frameUrl = await softphonePage('/framed', 'localhost');
    const top = stack.crm.page('/host-without-allow', `<!doctype html><iframe src="${frameUrl}"></iframe>`);
    const page = await openPage(context, top);
    const frame = await frameOf(page, '/framed');
    const errors = await environmentErrors(frame);
    expect(errors.map((e) => e.code)).toEqual(['MicrophoneBlockedByPermissionsPolicy']);
    expect(errors[0]?.message).toMatch(/iframe.*allow="microphone"/);
  });

  it('accept an <iframe> with allow="microphone"', async () => {
    context = await stack.browser.newContext();
    const frameUrl = await softphonePage('/framed-allowed', 'localhost');
    const top = stack.crm.page(
      '/host-with-allow',
      `<!doctype html><iframe allow="microphone" src="${frameUrl}"></iframe>`,
    );
    const page = await openPage(context, top);
    const frame = await frameOf(page, '/framed-allowed');
    expect(await environmentErrors(frame)).toEqual([]);
  });

  it('report a page that is not a secure context (plain http on a non-local host)', async () => {
    context = await stack.browser.newContext();
    const page = await openPage(context, await softphonePage('/insecure', 'crm.test'));
    expect(await page.evaluate('window.isSecureContext')).toBe(false);
    const errors = await environmentErrors(page);
    expect(errors.map((e) => e.code)).toEqual(['InsecureContext']);
  });
});

async function frameOf(page: Page, path: string): Promise<Frame> {
  for (let i = 0; i < 50; i++) {
    const frame = page.frames().find((f) => f.url().includes(path));
    if (frame) {
      await frame.waitForLoadState('load');
      return frame;
    }
    await page.waitForTimeout(100);
  }
  throw new Error(`no frame ${path}`);
}
