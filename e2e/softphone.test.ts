import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentToken } from '../packages/server/src/test-support/api.js';
import { guideDemo, PROBES } from './guide-demo.js';
import { crmPage, logLabels, openPage, type Stack, startStack, waitForLog } from './support.js';

// The guide's demo code in headless Chromium, against the real server: a CRM page on another origin loads
// /sdk/sdk.js with one script tag and runs the guide's code with only instance, host and token changed.

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

type Win = Window & Record<string, unknown>;

/** A fresh page of the CRM, agent 1001's softphone configured by the guide's demo code. */
async function guidePage(path: string): Promise<Page> {
  const token = await agentToken(stack.center.server, '1001');
  const url = stack.crm.page(
    path,
    crmPage(stack, guideDemo({ instanceId: 'demo', token, apiHost: stack.apiHost }) + PROBES),
  );
  context = await stack.browser.newContext();
  return openPage(context, url);
}

async function checkIn(page: Page): Promise<void> {
  const before = (await logLabels(page)).length;
  await page.evaluate(() => {
    const { APIs } = (window as unknown as Win).SoftPhoneSDK as { APIs: { agentCheckin(): unknown } };
    APIs.agentCheckin();
  });
  await waitForLog(page, '成功登录', before);
  await waitForStatus(page, 3);
}

async function waitForStatus(page: Page, status: number, timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    async (s) => {
      const { APIs } = (window as unknown as Win).SoftPhoneSDK as { APIs: { getAgentBarStatus(): Promise<number> } };
      return (await APIs.getAgentBarStatus()) === s;
    },
    status,
    { timeout, polling: 100 },
  );
}

const errors = (page: Page) => page.evaluate(() => (window as unknown as Win).__errors as unknown[]);

/** Ends with no call and agent 1001 ready, whatever the test left behind. */
async function settle(page: Page): Promise<void> {
  await waitForStatus(page, 3, 15_000);
}

describe('loading the SDK with one script tag', () => {
  it('sets window.SoftPhoneSDK and window.SoftPhone, with the guide enums and APIs', async () => {
    const page = await guidePage('/load');
    const seen = await page.evaluate(() => {
      const w = window as unknown as Win;
      const sdk = w.SoftPhoneSDK as Record<string, Record<string, unknown>>;
      return {
        same: w.SoftPhone === w.SoftPhoneSDK,
        apis: Object.keys(sdk.APIs ?? {}).slice(0, 9),
        events: Object.keys(sdk.EnumEventName ?? {}).length,
        codes: Object.keys(sdk.EnumWSEventType ?? {}).length,
        ready: sdk.AgentBarStatus?.AgentReady,
        locale: sdk.EnumLocale,
        bar: document.querySelector('#phone-container section.ohd-root')?.getAttribute('lang'),
      };
    });
    expect(seen).toEqual({
      same: true,
      apis: [
        'renderComponent',
        'doCallOut',
        'startWork',
        'agentCheckin',
        'agentCheckout',
        'getAgentBarStatus',
        'callAnswer',
        'callHangup',
        'takeWebSocketNotify',
      ],
      events: 16,
      codes: 21,
      ready: 3,
      locale: { en: 'en', 'zh-CN': 'zh-CN' },
      bar: 'zh-CN',
    });
    expect(await errors(page)).toEqual([]);
  });
});

describe('checking in and out as the guide demo does', () => {
  it('fires onAgentCheckedin, reaches ready (3), re-renders on a locale change, and checks out (1)', async () => {
    const page = await guidePage('/checkin');
    await checkIn(page);
    const checkedIn = await waitForLog(page, '成功登录');
    expect(checkedIn.type).toBe('onAgentCheckedin');
    expect(checkedIn.data).toMatchObject({ agentCallCode: 'AgentCheckin', agentId: '1001', instanceId: 'demo' });

    await page.evaluate(() => {
      const { SoftPhone, EnumLocale } = (window as unknown as Win).SoftPhoneSDK as {
        SoftPhone: { getInstance(): { setConfig(c: object): void } };
        EnumLocale: { en: string };
      };
      SoftPhone.getInstance().setConfig({ locale: EnumLocale.en });
    });
    expect(
      await page.evaluate(() => document.querySelector('#phone-container section.ohd-root')?.getAttribute('lang')),
    ).toBe('en');

    const before = (await logLabels(page)).length;
    await page.evaluate(() => {
      const { APIs } = (window as unknown as Win).SoftPhoneSDK as { APIs: { agentCheckout(): unknown } };
      APIs.agentCheckout();
    });
    const checkedOut = await waitForLog(page, '成功登出', before);
    expect(checkedOut.data).toMatchObject({ agentCallCode: 'AgentCheckout', status: 1, agentCallDesc: 'Checked out' });
    await waitForStatus(page, 1);
    expect(await errors(page)).toEqual([]);
    // Every hotline message reached both takeWebSocketNotify subscribers of the guide's code.
    const { seqs, codes } = await page.evaluate(() => ({
      seqs: (window as unknown as Win).__seqs as number[],
      codes: (window as unknown as Win).__codes as string[],
    }));
    // The media line's own events (AgentJoinChannel / AgentLeaveChannel) come and go with it; the status events are these.
    const media = new Set(['AgentJoinChannel', 'AgentLeaveChannel']);
    expect(codes.filter((c) => !media.has(c))).toEqual(['AgentCheckin', 'AgentReady', 'AgentCheckout']);
    // One subscriber records sequence numbers, the other codes: both saw every message, media events included.
    expect(seqs).toHaveLength(codes.length);
  });

  it('announces a check-in after a reload, when the agent was still checked in', async () => {
    const first = await guidePage('/reload');
    await checkIn(first);
    await context?.close();
    const page = await guidePage('/reload');
    await checkIn(page);
    expect((await logLabels(page)).filter((l) => l === '成功登录')).toHaveLength(1);
  });
});

/** Runs guide-style code in the page, where the guide's demo left `softPhone`, `APIs` and the enums in scope. */
function run<T = unknown>(page: Page, code: string): Promise<T> {
  return page.evaluate(code) as Promise<T>;
}

describe('an inbound call from the virtual carrier', () => {
  it('rings, is answered by the guide answer demo, and is hung up with callHangup(connId, jobId, acid, aid)', async () => {
    const page = await guidePage('/inbound');
    await checkIn(page);
    const start = (await logLabels(page)).length;
    const connId = await stack.center.placeCall('13900001111');
    const coming = await waitForLog(page, '新来电振铃', start);
    expect(coming.data).toMatchObject({ connId, agentCallCode: 'AgentRinging', callDirection: 'inbound', status: 7 });
    expect(coming.data?.ani).toBe('13900001111');
    const established = await waitForLog(page, '已接听来电', start);
    expect(established.data).toMatchObject({ connId, agentCallCode: 'AgentCallInboundEstablish', status: 10 });
    const { jobId, acid, aid } = established.data as Record<string, string>;
    expect(jobId && acid && aid).toBeTruthy();

    await run(
      page,
      `APIs.callHangup(${JSON.stringify(connId)}, ${JSON.stringify(jobId)}, ${JSON.stringify(acid)}, ${JSON.stringify(aid)})`,
    );
    const hungUp = await waitForLog(page, '呼入电话挂断完成', start);
    expect(hungUp.data).toMatchObject({ connId, agentCallCode: 'AgentCallRelease', releasedBy: 'agent' });
    const labels = (await logLabels(page)).slice(start);
    expect(labels.slice(0, 5)).toEqual([
      '新来电振铃',
      '呼入电话执行接听动作',
      '已接听来电',
      '挂断回调',
      '呼入电话挂断完成',
    ]);
    // The guide's polling loop from onCallComing sees the agent ready again (ACW of autoChangeOnLineTime = 1 s).
    await waitForLog(page, '轮询: 已回到空闲', start, 10_000);
    expect(await errors(page)).toEqual([]);
  });

  it('tells the agent when the customer hangs up first, which the guide had to poll for', async () => {
    const page = await guidePage('/customer-hangs-up');
    await checkIn(page);
    const start = (await logLabels(page)).length;
    const connId = await stack.center.placeCall('13900002222', '4008001000', { hangupAfterSeconds: 0.5 });
    const hungUp = await waitForLog(page, '呼入电话挂断完成', start);
    expect(hungUp.data).toMatchObject({ connId, releasedBy: 'customer' });
    expect((await logLabels(page)).slice(start)).not.toContain('挂断回调');
    await settle(page);
  });
});

describe('calling out with doCallOut', () => {
  it('dials, calls onSuccess with the call when the callee answers, and hangs up', async () => {
    const page = await guidePage('/callout');
    await checkIn(page);
    const start = (await logLabels(page)).length;
    await run(
      page,
      `window.__answered = [];
       APIs.doCallOut({
         number: '13800138000',
         onSuccess: (call) => window.__answered.push(call),
         param: { number: '13800138000', memberId: -1, memberName: '匿名会员', fromSource: 'other_system_out', taskId: undefined, channelId: undefined, caseId: undefined },
       });`,
    );
    const dialing = await waitForLog(page, '外拨请求中', start);
    expect(dialing.data).toMatchObject({ agentCallCode: 'AgentCallDialOut', callDirection: 'outbound', status: 9 });
    const established = await waitForLog(page, '呼出通话建立完成', start);
    expect(established.data).toMatchObject({ agentCallCode: 'AgentCallOutBoundEstablish', status: 11 });
    await page.waitForFunction(() => ((window as unknown as Win).__answered as unknown[]).length === 1);
    const answered = await run<Record<string, unknown>[]>(page, 'window.__answered');
    expect(answered[0]).toMatchObject({ connId: established.data?.connId, dnis: '13800138000' });

    const { connId, jobId, acid, aid } = established.data as Record<string, string>;
    await run(
      page,
      `APIs.callHangup(${JSON.stringify(connId)}, ${JSON.stringify(jobId)}, ${JSON.stringify(acid)}, ${JSON.stringify(aid)})`,
    );
    const done = await waitForLog(page, '呼出电话挂断完成', start);
    expect(done.data).toMatchObject({ connId, callDirection: 'outbound' });
    await settle(page);
    expect(await errors(page)).toEqual([]);
  });

  it('runs the guide dial-out hang-up demo: hung up while dialing, never established', async () => {
    const page = await guidePage('/callout-cancel');
    await checkIn(page);
    const start = (await logLabels(page)).length;
    // The number ends in 0002: the callee never answers, so the hang-up lands while dialing however busy the machine.
    await run(
      page,
      `softPhone.register(EnumEventName.AgentCallDialOut, (eventData, prevConfig, data) => {
         const { data: { connId, jobId, acid, aid } } = eventData;
         APIs.callHangup(connId, jobId, acid, aid);
       });
       APIs.doCallOut({ number: '13800130002', onSuccess: () => safeConsole('onSuccess'), param: { memberId: -1, memberName: '匿名会员', fromSource: 'other_system_out' } });`,
    );
    await waitForLog(page, '呼出电话挂断完成', start);
    const labels = (await logLabels(page)).slice(start);
    expect(labels).toEqual(['外拨请求中', '挂断回调', '呼出电话挂断完成']);
    await settle(page);
  });
});

describe('call control beyond the nine APIs', () => {
  it('holds and retrieves: onCallHold, then onCallRecovery', async () => {
    const page = await guidePage('/hold');
    await checkIn(page);
    const start = (await logLabels(page)).length;
    await stack.center.placeCall('13900003333');
    await waitForLog(page, '已接听来电', start);
    expect(await run(page, 'APIs.callHold().then((r) => r.ok)')).toBe(true);
    const held = await waitForLog(page, '通话保持', start);
    expect(held.data).toMatchObject({ agentCallCode: 'AgentCallHeld', status: 14 });
    expect(await run(page, 'APIs.getAgentBarStatus()')).toBe(14);
    expect(await run(page, 'APIs.callRetrieve().then((r) => r.ok)')).toBe(true);
    await waitForLog(page, '通话恢复', start);
    expect(await run(page, 'APIs.getAgentBarStatus()')).toBe(10);
    await run(page, 'APIs.callHangup()');
    await waitForLog(page, '呼入电话挂断完成', start);
    const labels = (await logLabels(page)).slice(start).filter((l) => !l.startsWith('轮询'));
    expect(labels).toEqual([
      '新来电振铃',
      '呼入电话执行接听动作',
      '已接听来电',
      '通话保持',
      '通话恢复',
      '挂断回调',
      '呼入电话挂断完成',
    ]);
    await settle(page);
  });

  it('transfers a call to another agent: onCallTransferOut, then the hang-up, and the other agent rings', async () => {
    const page = await guidePage('/transfer');
    await checkIn(page);
    const start = (await logLabels(page)).length;
    await stack.center.placeCall('13900004444');
    const established = await waitForLog(page, '已接听来电', start);
    const other = stack.center.agents['1002'];
    if (!other) throw new Error('no agent 1002');
    const before = other.messages().length;
    await other.post('/v1/agent/checkin');
    await other.waitFor('AgentReady', before);

    expect(await run(page, `APIs.callTransfer({ type: 'agent', agentId: '1002' }).then((r) => r.ok)`)).toBe(true);
    await waitForLog(page, '转交', start);
    const released = await waitForLog(page, '呼入电话挂断完成', start);
    expect(released.data).toMatchObject({ connId: established.data?.connId, releaseReason: 'transferred' });
    const ringing = await other.waitFor('AgentRinging', before);
    expect(ringing.data.connId).toBe(established.data?.connId);

    // Leave agent 1002 as it was: the transferred call ends, 1002 checks out.
    const ids = ringing.data;
    await other.post(`/v1/agent/calls/${ids.connId}/hangup`, {});
    await other.waitFor('AgentCallRelease', before);
    await other.post('/v1/agent/ready');
    await other.post('/v1/agent/checkout');
    await settle(page);
    expect(await errors(page)).toEqual([]);
  });
});
