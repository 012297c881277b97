import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentToken } from '../packages/server/src/test-support/api.js';
import { guideDemo, PROBES } from './guide-demo.js';
import { crmPage, logLabels, openPage, type Stack, startStack, waitForLog } from './support.js';

// Token expiry in the browser against the real server: short-lived tokens really expire, the server closes the
// channel with 4001 TokenExpired and refuses requests with 401 TokenExpired.

let stack: Stack;
let context: BrowserContext | undefined;

beforeAll(async () => {
  stack = await startStack();
}, 60_000);
afterEach(async () => {
  await context?.close();
  context = undefined;
});
afterAll(async () => {
  await stack?.close();
});

const TOKEN_SECONDS = 4;

function run<T = unknown>(page: Page, code: string): Promise<T> {
  return page.evaluate(code) as Promise<T>;
}

async function checkIn(page: Page): Promise<void> {
  const before = (await logLabels(page)).length;
  await run(page, 'APIs.agentCheckin()');
  await waitForLog(page, '成功登录', before);
}

function agent1001() {
  const agent = stack.center.agents['1001'];
  if (!agent) throw new Error('no agent 1001');
  return agent;
}

/** The Node-side view of agent 1001's stream: every sequence number the server pushed, in order. */
function serverSeqs(): number[] {
  return agent1001()
    .messages()
    .map((m) => m.seq);
}

async function pageSeqs(page: Page): Promise<number[]> {
  return run<number[]>(page, 'window.__seqs');
}

/** No event lost or duplicated: the page saw exactly the server's stream from its first message on. */
async function expectSameStream(page: Page): Promise<void> {
  const seen = await pageSeqs(page);
  const all = serverSeqs();
  expect(seen.length).toBeGreaterThan(0);
  expect(seen).toEqual(all.slice(all.indexOf(seen[0] as number)));
}

describe('an expired token', () => {
  it('is reported, and once the host sets a new one the failed action is retried and the channel resumes', async () => {
    let gateOpen: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      gateOpen = resolve;
    });
    let fetches = 0;
    context = await stack.browser.newContext();
    // The host's backend issuing a fresh token: held back until the test has made things happen meanwhile.
    await context.exposeFunction('fetchBearerToken', async () => {
      fetches++;
      await gate;
      return agentToken(stack.center.server, '1001');
    });
    const token = await agentToken(stack.center.server, '1001', undefined, TOKEN_SECONDS);
    const demo = guideDemo({
      instanceId: 'demo',
      token,
      apiHost: stack.apiHost,
      newToken: 'window.fetchBearerToken()',
    });
    const page = await openPage(context, stack.crm.page('/expiry', crmPage(stack, demo + PROBES)));
    await checkIn(page);

    // The token runs out: the server closes the channel, the SDK says so.
    const expired = await waitForLog(page, 'token失效', 0, (TOKEN_SECONDS + 5) * 1000);
    expect(expired.data).toMatchObject({ action: 'channel', code: 'TokenExpired' });

    // Meanwhile the agent's status changes elsewhere (another tab of the same agent): the page cannot hear it yet.
    const before = agent1001().messages().length;
    await agent1001().post('/v1/agent/break');
    await agent1001().post('/v1/agent/ready');
    await agent1001().waitFor('AgentReady', before);

    // And the page's own action meets the expired token.
    const marker = (await logLabels(page)).length;
    await run(page, 'void (window.__checkout = APIs.agentCheckout())');
    const refused = await waitForLog(page, 'token失效', marker);
    expect(refused.data).toMatchObject({ action: 'agentCheckout', code: 'TokenExpired', status: 401 });
    expect(await run(page, `window.__log.slice(${marker}).map((e) => e.label)`)).not.toContain('成功登出');

    // The host's new token arrives: the checkout is retried and succeeds, the channel resumes where it stopped.
    gateOpen();
    const checkedOut = await waitForLog(page, '成功登出', marker);
    expect(checkedOut.data).toMatchObject({ status: 1 });
    expect(await run(page, 'window.__checkout.then((r) => r.ok)')).toBe(true);
    await page.waitForFunction(() =>
      ((window as unknown as { __codes: string[] }).__codes ?? []).includes('AgentCheckout'),
    );
    await page.waitForFunction(
      (n) => ((window as unknown as { __seqs: number[] }).__seqs ?? []).length >= n,
      (await pageSeqs(page)).length,
    );
    await expectSameStream(page);
    // The media line's own events (AgentJoinChannel / AgentLeaveChannel) are left out: the status events are checked.
    const media = new Set(['AgentJoinChannel', 'AgentLeaveChannel']);
    const codes = (await run<string[]>(page, 'window.__codes')).filter((c) => !media.has(c));
    expect(codes.slice(-3)).toEqual(['AgentBreak', 'AgentReady', 'AgentCheckout']);
    expect(codes.filter((c) => c === 'AgentBreak')).toHaveLength(1);
    expect(await run(page, 'APIs.getAgentBarStatus()')).toBe(1);
    // The two refusals of the expired token, and nothing else refused on its account. The guide's handler fetches a
    // token on every actionError, so fetches follow the errors one to one (a media report on a slow machine, say,
    // is an error of its own, not a retry loop).
    const errors = await run<{ action: string; code: string }[]>(page, 'window.__errors');
    const refusals = errors.filter((e) => e.code === 'TokenExpired' || e.code === 'Unauthorized');
    expect(refusals.map((e) => `${e.action}:${e.code}`)).toEqual([
      'channel:TokenExpired',
      'agentCheckout:TokenExpired',
    ]);
    expect(fetches).toBe(errors.length);
    // The dial bar reads the agent's profile once (getAgentInfo); the guide's own calls are the rest.
    expect((await run<string[]>(page, 'window.__successes')).filter((a) => a !== 'getAgentInfo')).toEqual([
      'agentCheckin',
      'agentCheckout',
    ]);
  }, 40_000);

  it("does not loop on the guide demo that sets the literal 'newBearerToken' on every error", async () => {
    context = await stack.browser.newContext();
    const token = await agentToken(stack.center.server, '1001', undefined, TOKEN_SECONDS);
    const page = await openPage(
      context,
      stack.crm.page(
        '/literal',
        crmPage(stack, guideDemo({ instanceId: 'demo', token, apiHost: stack.apiHost }) + PROBES),
      ),
    );
    await checkIn(page);
    await waitForLog(page, 'token失效', 0, (TOKEN_SECONDS + 5) * 1000);
    await run(page, 'void (window.__checkout = APIs.agentCheckout())');
    // Expired channel, then the literal token refused once on the channel and once for the checkout: and no more.
    await page.waitForTimeout(3000);
    const errors = await run<{ action: string; code: string }[]>(page, 'window.__errors');
    expect(errors.map((e) => `${e.action}:${e.code}`)).toEqual([
      'channel:TokenExpired',
      'channel:Unauthorized',
      'agentCheckout:Unauthorized',
    ]);
    // A real token still gets everything through.
    const fresh = await agentToken(stack.center.server, '1001');
    const marker = (await logLabels(page)).length;
    await run(page, `softPhone.setConfig({ BearerToken: ${JSON.stringify(fresh)} })`);
    await waitForLog(page, '成功登出', marker);
    expect(await run(page, 'window.__checkout.then((r) => r.ok)')).toBe(true);
    await page.waitForFunction(() =>
      ((window as unknown as { __codes: string[] }).__codes ?? []).includes('AgentCheckout'),
    );
    await expectSameStream(page);
  }, 40_000);
});
