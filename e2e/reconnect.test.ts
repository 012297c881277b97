import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentToken } from '../packages/server/src/test-support/api.js';
import { guideDemo, PROBES } from './guide-demo.js';
import { crmPage, logLabels, openPage, type Stack, startStack, waitForLog } from './support.js';

// A network outage in the middle of a call: the page reaches the server through a TCP proxy that the test cuts
// (every connection reset, new ones refused) and later restores.

let stack: Stack;
let context: BrowserContext | undefined;

beforeAll(async () => {
  stack = await startStack();
}, 60_000);
afterEach(async () => {
  stack.proxy.restore();
  await context?.close();
  context = undefined;
});
afterAll(async () => {
  await stack?.close();
});

function run<T = unknown>(page: Page, code: string): Promise<T> {
  return page.evaluate(code) as Promise<T>;
}

function agent1001() {
  const agent = stack.center.agents['1001'];
  if (!agent) throw new Error('no agent 1001');
  return agent;
}

describe('the channel dropping mid-call', () => {
  it('reconnects with backoff, resumes from the last sequence number, loses and repeats nothing', async () => {
    const token = await agentToken(stack.center.server, '1001');
    context = await stack.browser.newContext();
    const page = await openPage(
      context,
      stack.crm.page(
        '/drop',
        crmPage(stack, guideDemo({ instanceId: 'demo', token, apiHost: stack.apiHost }) + PROBES),
      ),
    );
    await run(page, 'APIs.agentCheckin()');
    await waitForLog(page, '成功登录');
    const start = (await logLabels(page)).length;
    const connId = await stack.center.placeCall('13900005555');
    await waitForLog(page, '已接听来电', start);

    // The network goes away; the customer hangs up and the after-call work ends while the page cannot hear it.
    stack.proxy.cut();
    const before = agent1001().messages().length;
    expect(await stack.center.callerHangsUp(connId)).toBe(204);
    await agent1001().waitFor('AgentCallRelease', before);
    await agent1001().waitFor('AgentReady', before, 5000);
    await page.waitForTimeout(1500);
    expect(await run(page, `window.__log.slice(${start}).map((e) => e.label)`)).not.toContain('呼入电话挂断完成');
    stack.proxy.restore();

    // Back: the missed messages arrive once, in order, and the status is the server's.
    const hungUp = await waitForLog(page, '呼入电话挂断完成', start, 15_000);
    expect(hungUp.data).toMatchObject({ connId, releasedBy: 'customer' });
    const serverSeqs = agent1001()
      .messages()
      .map((m) => m.seq);
    await page.waitForFunction(
      (last) => ((window as unknown as { __seqs: number[] }).__seqs ?? []).includes(last),
      serverSeqs.at(-1) as number,
    );
    const seen = await run<number[]>(page, 'window.__seqs');
    expect(seen).toEqual(serverSeqs.slice(serverSeqs.indexOf(seen[0] as number)));
    const labels = (await logLabels(page)).slice(start).filter((l) => !l.startsWith('轮询'));
    expect(labels.filter((l) => l === '呼入电话挂断完成')).toHaveLength(1);
    const status = await agent1001().get<{ status: number }>('/v1/agent/status');
    expect(await run(page, 'APIs.getAgentBarStatus()')).toBe(status.body.status);
    expect(status.body.status).toBe(3);
    expect(await run(page, 'window.__errors')).toEqual([]);
  }, 40_000);

  it('keeps answering getAgentBarStatus through an outage, and is current again once reconnected', async () => {
    const token = await agentToken(stack.center.server, '1001');
    context = await stack.browser.newContext();
    const page = await openPage(
      context,
      stack.crm.page(
        '/status',
        crmPage(stack, guideDemo({ instanceId: 'demo', token, apiHost: stack.apiHost }) + PROBES),
      ),
    );
    await run(page, 'APIs.agentCheckin()');
    await waitForLog(page, '成功登录');
    stack.proxy.cut();
    await agent1001().post('/v1/agent/break');
    // While cut, a status request cannot reach the server either: the SDK answers with the last status it knew.
    expect(await run(page, 'APIs.getAgentBarStatus()')).toBe(3);
    stack.proxy.restore();
    // Changed while the page was cut off: after the reconnect the SDK knows, never the stale 3.
    await page.waitForFunction(
      async () => {
        const sdk = (window as unknown as { SoftPhoneSDK: { APIs: { getAgentBarStatus(): Promise<number> } } })
          .SoftPhoneSDK;
        return (await sdk.APIs.getAgentBarStatus()) === 4;
      },
      undefined,
      { timeout: 15_000, polling: 200 },
    );
    await agent1001().post('/v1/agent/ready');
  }, 40_000);
});
