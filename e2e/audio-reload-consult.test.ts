import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { S } from '../packages/server/src/test-support/call-center.js';
import { pageHears, run } from './support.js';
import {
  A_HZ,
  B_HZ,
  expectConference,
  expectConsultation,
  expectConsultationCancelled,
  expectTransferred,
  HEARD,
  lineUp,
  startThreeParty,
} from './three-party.js';

// The product promise "calls survive a page reload", during a consultation: agent 1001 (page A, 440 Hz) answers a
// virtual customer (1000 Hz) and consults agent 1002 (page B, its own Chromium, 700 Hz): A and B talk, the customer
// hears hold music. A's page reloads mid-consultation and runs the guide's code again. The SDK must come back in
// the consultation (same status, same connId), A's new peer connection must be bridged to B again while the
// customer keeps hearing music, and the reloaded page completes the attended transfer: B and the customer talk,
// A hears nothing. The tones and the harness are three-party.ts's, shared with audio-three-party.test.ts.

// agentPage watches the media line from the page, not from the agent's test channel: 1001's test channel is closed
// for the reload, and a retry of the test finds it closed already.
const harness = startThreeParty({ label: 'audio-reload-consult', lineUpSeenOn: 'page' });
const { agent, agentPage, placeCall, customerOf, fallsSilentOn, listen } = harness;

const status = (page: Page) => run<number>(page, 'APIs.getAgentBarStatus()');
const sdk = (page: Page, expression: string) => run(page, `window.SoftPhoneSDK.SoftPhone.getInstance().${expression}`);
const errors = (page: Page) => run<unknown[]>(page, 'window.__errors');

/**
 * A answers a customer and consults B; A's page reloads mid-consultation. Checks that A comes back consulting:
 * the same status and call, A and B bridged again on A's new peer connection, the customer still on hold.
 */
async function consultThenReload(caller: string) {
  const pageA = await agentPage(harness.browserA, '1001');
  const connId = await placeCall(caller);
  // The guide's answer demo on page A answers it.
  await expect.poll(() => status(pageA), { timeout: 10_000 }).toBe(S.AgentCallInboundEstablish);
  const customer = customerOf(connId);
  const pageB = await agentPage(harness.browserB, '1002');
  const pages = { A: pageA, B: pageB };

  // A consults B, whose page answers with the guide's answer demo.
  expect(await run(pageA, `APIs.callConsult({ type: 'agent', agentId: '1002' }).then((r) => r.ok)`)).toBe(true);
  await expect.poll(() => status(pageA), { timeout: 10_000 }).toBe(S.AgentCallThirdConsult);
  await expect.poll(() => status(pageB), { timeout: 5000 }).toBe(S.AgentCallConsultEstablish);
  expectConsultation(await listen(pages, customer, 'consulting'));
  const statusBefore = await status(pageA);
  expect(await sdk(pageA, 'getCurrentCall()?.connId')).toBe(connId);
  expect(await errors(pageA)).toEqual([]);

  // The page is A's only channel from here: the reload really leaves A without one for a moment.
  agent('1001').channel.close();
  const reloadedAt = Date.now();
  await pageA.reload();

  // The SDK knows it is in this consultation again: the same status, and the call the call APIs act on.
  await expect.poll(() => status(pageA), { timeout: 5000 }).toBe(statusBefore);
  await expect.poll(() => sdk(pageA, 'getCurrentCall()?.connId'), { timeout: 5000 }).toBe(connId);
  // A hears B again on the reloaded page's new <audio> element (so no leftover of the old page's audio): A's new
  // peer connection is bridged to B's line, not to the waiting customer. Both directions are checked just below.
  await expect
    .poll(async () => (await pageHears(pageA, B_HZ, { ms: 300 })).audibleShare, { timeout: 8000, interval: 100 })
    .toBeGreaterThan(HEARD);
  console.info(`[audio-reload-consult] A hears B again ${Date.now() - reloadedAt} ms after the reload began`);
  expectConsultation(await listen(pages, customer, 'after the reload'));
  expect(await run(pageA, 'window.__peerConnections.length')).toBe(1);
  expect(await lineUp(pageA)).toBe('connected');
  expect(await status(pageB), 'B is still in the consultation').toBe(S.AgentCallConsultEstablish);
  return { pageA, pageB, pages, connId, customer };
}

describe('a page reload during a consultation', () => {
  it('comes back consulting (status, connId, A and B talk on a new peer connection, music for the customer) and completes the transfer', async () => {
    const { pageA, pageB, pages, connId, customer } = await consultThenReload('13900006666');

    // The reloaded page completes the attended transfer, the guide's way without ids: the SDK's current call.
    expect(await run(pageA, 'APIs.consultComplete().then((r) => r.ok)')).toBe(true);
    // A leaves the call: after-call work (1 s in the demo instance), then ready.
    await expect.poll(() => status(pageA), { timeout: 5000 }).toBe(S.AgentReady);
    expect((await agent('1001').get<{ items: unknown[] }>('/v1/agent/calls')).body.items).toEqual([]);
    // The handed-over call is no longer A's current call (after-call work named it, and must not bring it back).
    expect(await sdk(pageA, 'getCurrentCall()')).toBeUndefined();
    // B now handles the call and is pushed nothing: it stays in AgentCallConsultEstablish (docs/call-states.md).
    expect(await status(pageB), 'B handles the call').toBe(S.AgentCallConsultEstablish);
    await fallsSilentOn(pageA, B_HZ);
    expectTransferred(await listen(pages, customer, 'transferred'));

    // B now handles the call: the guide's hang-up with no ids ends it.
    expect(await run(pageB, 'APIs.callHangup().then((r) => r.ok)')).toBe(true);
    await expect.poll(() => harness.center.server.hotline.media?.partyOf(connId)).toBeUndefined();
    expect((await agent('1002').get<{ items: unknown[] }>('/v1/agent/calls')).body.items).toEqual([]);
    for (const page of [pageA, pageB]) expect(await errors(page)).toEqual([]);
    expect(await run(pageA, 'APIs.agentCheckout().then((r) => r.ok)')).toBe(true);
  }, 60_000);

  it('comes back consulting and cancels the consultation from the reloaded page: A and the customer talk again, B is let go', async () => {
    const { pageA, pageB, pages, connId, customer } = await consultThenReload('13900007777');

    // The reloaded page calls the consultation off, without ids: B is dropped and A takes the customer back.
    expect(await run(pageA, 'APIs.consultCancel().then((r) => r.ok)')).toBe(true);
    await expect.poll(() => status(pageA), { timeout: 5000 }).toBe(S.AgentCallInboundEstablish);
    expect(await sdk(pageA, 'getCurrentCall()?.connId')).toBe(connId);
    // B's part ended: after-call work, then ready; it has no call any more.
    await expect.poll(() => status(pageB), { timeout: 5000 }).toBe(S.AgentReady);
    expect((await agent('1002').get<{ items: unknown[] }>('/v1/agent/calls')).body.items).toEqual([]);
    await fallsSilentOn(pageB, A_HZ);
    expectConsultationCancelled(await listen(pages, customer, 'cancelled'));

    // The guide's hang-up with no ids, from the reloaded page, ends the call.
    expect(await run(pageA, 'APIs.callHangup().then((r) => r.ok)')).toBe(true);
    await expect.poll(() => harness.center.server.hotline.media?.partyOf(connId)).toBeUndefined();
    for (const page of [pageA, pageB]) expect(await errors(page)).toEqual([]);
  }, 60_000);

  it('comes back consulting and joins all three in a conference from the reloaded page', async () => {
    const { pageA, pageB, pages, connId, customer } = await consultThenReload('13900008888');

    // The reloaded page joins the customer, B and A, without ids.
    expect(await run(pageA, 'APIs.callConference().then((r) => r.ok)')).toBe(true);
    await expect.poll(() => status(pageA), { timeout: 5000 }).toBe(S.AgentCallConference);
    expectConference(await listen(pages, customer, 'conference'));

    // The customer hangs up: the call ends for everyone.
    await harness.center.callerHangsUp(connId);
    await expect.poll(() => harness.center.server.hotline.media?.partyOf(connId)).toBeUndefined();
    await expect.poll(() => status(pageA), { timeout: 5000 }).toBe(S.AgentReady);
    await expect.poll(() => status(pageB), { timeout: 5000 }).toBe(S.AgentReady);
    for (const page of [pageA, pageB]) expect(await errors(page)).toEqual([]);
  }, 60_000);
});
