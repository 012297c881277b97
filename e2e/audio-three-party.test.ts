import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { VirtualParty } from '../packages/server/src/adapters/media/media-engine.js';
import { run } from './support.js';
import {
  A_HZ,
  ABSENT,
  B_HZ,
  CUSTOMER_HZ,
  expectConference,
  expectConsultation,
  expectTransferred,
  HEARD,
  startThreeParty,
} from './three-party.js';

// Three parties, three tones, checked by frequency (see three-party.ts): a virtual customer says 1000 Hz, agent
// 1001 (page A) 440 Hz, agent 1002 (page B) 700 Hz.
// Attended transfer: A answers, consults B (A and B talk, the customer hears music), completes (B and the
// customer talk, A hears nothing). Conference: all three hear both others, and nobody hears themselves.

const harness = startThreeParty({ label: 'audio-three-party', lineUpSeenOn: 'channel' });
const { agent, agentPage, placeCall, customerOf, fallsSilentOn, listen } = harness;

/** A virtual customer calls; agent 1001 (the only one checked in) answers with the guide's demo. */
async function customerAnsweredByA(): Promise<{ connId: string; customer: VirtualParty }> {
  const before = agent('1001').messages().length;
  const connId = await placeCall('13900003333');
  await agent('1001').waitFor('AgentCallInboundEstablish', before, 10_000);
  return { connId, customer: customerOf(connId) };
}

/** A, still talking with the customer, consults B; B's page answers with the guide's demo. */
async function aConsultsB(pageA: Page): Promise<void> {
  const before = agent('1001').messages().length;
  expect(await run(pageA, `APIs.callConsult({ type: 'agent', agentId: '1002' }).then((r) => r.ok)`)).toBe(true);
  await agent('1001').waitFor('AgentCallThirdConsult', before, 10_000);
}

describe('attended transfer, by ear', () => {
  it('consult: A and B talk while the customer hears music; complete: B and the customer talk, A hears nothing', async () => {
    const pageA = await agentPage(harness.browserA, '1001');
    const { connId, customer } = await customerAnsweredByA();
    const pageB = await agentPage(harness.browserB, '1002');
    const pages = { A: pageA, B: pageB };

    const heard = await listen(pages, customer);
    expect(heard.A[CUSTOMER_HZ]?.audibleShare, 'A hears the customer').toBeGreaterThan(HEARD);
    expect(heard.customer[A_HZ]?.audibleShare, 'the customer hears A').toBeGreaterThan(HEARD);

    await aConsultsB(pageA);
    expectConsultation(await listen(pages, customer));

    const before = agent('1001').messages().length;
    expect(await run(pageA, 'APIs.consultComplete().then((r) => r.ok)')).toBe(true);
    await agent('1001').waitFor('AgentCallRelease', before, 10_000);
    await fallsSilentOn(pageA, B_HZ);
    expectTransferred(await listen(pages, customer));

    // B now handles the call: the guide's hang-up with no ids ends it.
    expect(await run(pageB, 'APIs.callHangup().then((r) => r.ok)')).toBe(true);
    await expect.poll(() => harness.center.server.hotline.media?.partyOf(connId)).toBeUndefined();
    for (const page of [pageA, pageB]) expect(await run(page, 'window.__errors')).toEqual([]);
  }, 90_000);
});

describe('three-way conference, by ear', () => {
  it('all three hear both others and not themselves; when A leaves, B and the customer go on talking', async () => {
    const pageA = await agentPage(harness.browserA, '1001');
    const { connId, customer } = await customerAnsweredByA();
    const pageB = await agentPage(harness.browserB, '1002');
    const pages = { A: pageA, B: pageB };
    await aConsultsB(pageA);

    const before = agent('1001').messages().length;
    expect(await run(pageA, 'APIs.callConference().then((r) => r.ok)')).toBe(true);
    await agent('1001').waitFor('AgentCallConference', before, 10_000);
    expectConference(await listen(pages, customer));

    // A leaves the conference: B handles the call and keeps talking with the customer.
    const leaving = agent('1001').messages().length;
    expect(await run(pageA, 'APIs.callHangup().then((r) => r.ok)')).toBe(true);
    await agent('1001').waitFor('AgentCallRelease', leaving, 10_000);
    await fallsSilentOn(pageA, CUSTOMER_HZ);
    const heard = await listen(pages, customer);
    expect(heard.B[CUSTOMER_HZ]?.audibleShare, 'B hears the customer').toBeGreaterThan(HEARD);
    expect(heard.customer[B_HZ]?.audibleShare, 'the customer hears B').toBeGreaterThan(HEARD);
    expect(heard.customer[A_HZ]?.overallShare, 'the customer no longer hears A').toBeLessThan(ABSENT);
    expect(heard.A[CUSTOMER_HZ]?.overallShare, 'A hears nothing of the customer').toBeLessThan(ABSENT);

    expect(await run(pageB, 'APIs.callHangup().then((r) => r.ok)')).toBe(true);
    await expect.poll(() => harness.center.server.hotline.media?.partyOf(connId)).toBeUndefined();
    for (const page of [pageA, pageB]) expect(await run(page, 'window.__errors')).toEqual([]);
  }, 90_000);
});
