import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentToken } from '../packages/server/src/test-support/api.js';
import { type CallCenter, startCallCenter, type TestAgent } from '../packages/server/src/test-support/call-center.js';
import {
  AUDIO_PROBE,
  CrmServer,
  crmPage,
  guideAudioAgent,
  launchBrowserSaying,
  openPage,
  pageHears,
  writeToneWav,
} from './support.js';

// The customer web-call page against the real server, both ends in headless Chromium with fake microphones:
// agent 1001 runs the guide's demo through the SDK (its own Chromium saying 440 Hz), the customer opens /webcall
// (another Chromium saying 1200 Hz: one fake-microphone file per launch) and clicks Call. The guide's answer demo
// answers; each side must hear the other's tone. The customer hangs up with a click; the agent is told.

const AGENT_HZ = 440;
const CUSTOMER_HZ = 1200;
const HEARD = 0.5;
const ABSENT = 0.05;

let center: CallCenter;
let crm: CrmServer;
let agentBrowser: Browser;
let customerBrowser: Browser;
let dir: string;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'openhotline-webcall-'));
  const [agentWav, customerWav] = await Promise.all([
    writeToneWav(join(dir, 'agent-440.wav'), AGENT_HZ),
    writeToneWav(join(dir, 'customer-1200.wav'), CUSTOMER_HZ),
  ]);
  // No announcedAddress: Chromium offers no loopback candidates, so the server advertises its interface addresses.
  center = await startCallCenter({ checkIn: [], config: { media: { enabled: true } } });
  crm = await CrmServer.start();
  [agentBrowser, customerBrowser] = await Promise.all([
    launchBrowserSaying(agentWav),
    launchBrowserSaying(customerWav),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  await Promise.all([agentBrowser?.close(), customerBrowser?.close()]);
  await crm?.close();
  await center?.close();
  await rm(dir, { recursive: true, force: true });
});

function agent(id: string): TestAgent {
  const found = center.agents[id];
  if (!found) throw new Error(`no agent ${id}`);
  return found;
}

/** Agent 1001 opens the guide's page, checks in on load, and has its media line up. */
async function agentPage(): Promise<Page> {
  const token = await agentToken(center.server, '1001');
  const apiHost = new URL(center.server.url).host;
  const before = agent('1001').messages().length;
  const context = await agentBrowser.newContext();
  contexts.push(context);
  const code = `${guideAudioAgent({ token, apiHost, checkInOnLoad: true, rawMicrophone: true })}
softPhone.register(EnumEventName.onCallDidHangup, (e) => safeConsole('onCallDidHangup', e));`;
  const page = await openPage(
    context,
    crm.page('/agent', crmPage({ sdkUrl: `${center.server.url}/sdk/sdk.js` }, code)),
  );
  await agent('1001').waitFor('AgentJoinChannel', before, 15_000);
  return page;
}

async function customerPage(): Promise<Page> {
  const context = await customerBrowser.newContext();
  contexts.push(context);
  // The probe listens to what the page's peer connection receives: the page has no SDK <audio> element.
  await context.addInitScript(AUDIO_PROBE);
  // The raw microphone: noise suppression would turn a steady test tone down (see RAW_MICROPHONE in support.ts).
  await context.addInitScript(`{
    const devices = navigator.mediaDevices;
    const native = devices.getUserMedia.bind(devices);
    devices.getUserMedia = (c) => native({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
  }`);
  return openPage(context, `${center.server.url}/webcall?to=4008001000&lang=en`);
}

const customerHears = (page: Page, hz: number, ms = 1000) => pageHears(page, hz, { ms, source: 'peer-connection' });
const status = (page: Page) => page.locator('#status').getAttribute('data-state');

describe('the customer web-call page', () => {
  it('calls the hotline, the agent answers, both hear each other, the customer hangs up with a click', async () => {
    const agentSide = await agentPage();
    const customer = await customerPage();
    // The page listed the instance's numbers and took the one from the link.
    expect(await customer.locator('#to').inputValue()).toBe('4008001000');

    const before = agent('1001').messages().length;
    await customer.locator('#call').click();
    const established = await agent('1001').waitFor('AgentCallInboundEstablish', before, 15_000);
    const connId = established.data.connId;
    expect(established.data.ani).toMatch(/^web:[a-z]{8}$/);
    await customer.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'connected');
    expect(await customer.locator('#caller-id').textContent()).toContain(established.data.ani);

    // Let the jitter buffers fill, then listen on both sides at once.
    await new Promise((r) => setTimeout(r, 1500));
    const [agentHearsCustomer, agentHearsItself, customerHearsAgent, customerHearsItself] = await Promise.all([
      pageHears(agentSide, CUSTOMER_HZ, { ms: 1500 }),
      pageHears(agentSide, AGENT_HZ, { ms: 1500 }),
      customerHears(customer, AGENT_HZ, 1500),
      customerHears(customer, CUSTOMER_HZ, 1500),
    ]);
    expect(agentHearsCustomer.audibleShare).toBeGreaterThan(HEARD);
    expect(agentHearsItself.overallShare).toBeLessThan(ABSENT);
    expect(customerHearsAgent.audibleShare).toBeGreaterThan(HEARD);
    expect(customerHearsItself.overallShare).toBeLessThan(ABSENT);
    // The call timer runs.
    await customer.waitForFunction(() => document.querySelector('#timer')?.textContent !== '00:00');

    const releasedAt = agent('1001').messages().length;
    await customer.locator('#hangup').click();
    const release = await agent('1001').waitFor('AgentCallRelease', releasedAt, 10_000);
    expect(release.data).toMatchObject({ connId, releasedBy: 'customer', releaseReason: 'customer-hangup' });
    // The SDK in the agent's page tells the integrator the caller hung up.
    await agentSide.waitForFunction(
      (id) =>
        (window as unknown as { __log: { label: string; data?: { connId?: string } }[] }).__log.some(
          (e) => e.label === 'onCallDidHangup' && e.data?.connId === id,
        ),
      connId,
      { timeout: 10_000 },
    );
    expect(await status(customer)).toBe('ended');
    expect(await customer.locator('#call').isEnabled()).toBe(true);
    const { body } = await center.admin<{ disposition: string; releasedBy: string }>(
      'GET',
      `/v1/admin/instances/demo/records/${connId}`,
    );
    expect(body).toMatchObject({ disposition: 'answered', releasedBy: 'customer' });
    expect(center.server.hotline.webCallers?.size).toBe(0);
  }, 90_000);

  it('says in plain words when the number is not a hotline', async () => {
    const customer = await customerPage();
    await customer.locator('#to').fill('4000000000');
    await customer.locator('#call').click();
    await customer.locator('#problem').waitFor({ state: 'visible' });
    expect(await customer.locator('#problem').textContent()).toBe('That is not a hotline number');
    expect(await customer.locator('#call').isEnabled()).toBe(true);
  }, 30_000);
});
