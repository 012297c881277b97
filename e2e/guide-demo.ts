/**
 * The guide's own demo code (softphone SDK guide 0.5.1), as a business system would paste it into a page that
 * loads the SDK with one script tag. Changed from the guide: the instance, host and token (the guide's
 * placeholders), and syntax only — TypeScript annotations and JSX removed, the duplicate `data` declaration of the
 * register demo dropped, the React hooks of the full demo unwrapped (their register calls kept, `dispatch` written
 * as `safeConsole`), the typo `agmentBarStatus` fixed, `_get` defined. Every SDK call is kept.
 */
export function guideDemo(options: {
  instanceId: string;
  token: string;
  apiHost: string;
  /**
   * The guide's actionError handler sets the literal 'newBearerToken'. Given, this JavaScript expression (awaited)
   * is the new token instead: the host fetching a fresh token from its backend, as the full demo's refresh does.
   */
  newToken?: string;
}): string {
  const setNewToken = options.newToken
    ? `softPhone.register(EnumEventName.actionError, async () => {
  softPhone.setConfig({
    BearerToken: await (${options.newToken})
  });
});`
    : `softPhone.register(EnumEventName.actionError, () => {
  softPhone.setConfig({
    BearerToken: 'newBearerToken'
  });
});`;
  return `
// ---- 1. 软电话类
const { SoftPhone, EnumLocale, EnumEventName, APIs, AgentBarStatus } = window.SoftPhoneSDK;
const softPhone = SoftPhone.getInstance(); // softphone follow Singleton Pattern

// ---- Demo
const config = {
  InstanceId: ${JSON.stringify(options.instanceId)},
  BearerToken: ${JSON.stringify(options.token)},
  env: 'online',
  apiHost: ${JSON.stringify(options.apiHost)},
  Version: '',
  locale: EnumLocale['zh-CN'],
  isPlugin: true,
  needDesensitize: false,
  autoChangeOnLineTime: 1,
  canChangeStatusByHand: false,
  disableUI: false
};
softPhone.setConfig(config);
${setNewToken}
const SoftPhoneUI = softPhone.getUIComponent();
APIs.renderComponent(SoftPhoneUI, document.querySelector('#phone-container'));

// ---- 2. 注册监听Demo
const unRegister = softPhone.register(EnumEventName['actionError.tokenExpired'], (eventData, prevConfig, data) => {
  const { type } = eventData;
  console.log('[SoftPhone actionError.tokenExpired]', type, data);
});
unRegister();

// ---- 接听来电Demo
softPhone.register(EnumEventName.AgentRinging, (eventData, prevConfig, data) => {
  const { data: { connId, jobId, acid, aid } } = eventData;
  APIs.callAnswer(connId, jobId, acid, aid);
});

// ---- 获取webSocket通道
const notify = APIs.takeWebSocketNotify();
window.__seqs = [];
function listenerHotlineMsg(msgData) {
  window.__seqs.push(msgData.seq);
}
notify.on('hotline-message', listenerHotlineMsg);

// ---- 5. 热线状态 (window.SoftPhone, and takeWebSocketNotify used without calling it)
function _get(object, path) {
  return path.split('.').reduce((value, key) => (value == null ? undefined : value[key]), object);
}
window.__codes = [];
{
  const { APIs, EnumWSEventType } = window.SoftPhone;
  const takeWebSocketNotify = APIs.takeWebSocketNotify;
  const listenerHotlineMsg2 = function (msgData) {
    window.__codes.push(_get(msgData, 'head.agentCallCode'));
    if (_get(msgData, 'head.agentCallCode') === EnumWSEventType.AgentLeaveChannel) {
      // dosomething
    }
  };
  takeWebSocketNotify.on('hotline-message', listenerHotlineMsg2);
}

// ---- 完整版Demo: useRegisterHooks
softPhone.register(EnumEventName.onAgentCheckedin, e => {
  safeConsole('成功登录', e);
});
softPhone.register(EnumEventName.onAgentCheckedout, e => {
  safeConsole('成功登出', e);
});
softPhone.register(EnumEventName.onCallDialOut, e => {
  safeConsole('外拨请求中', e);
});
softPhone.register(EnumEventName.onCallComing, e => {
  safeConsole('新来电振铃', e);
  ;(async function() {
    while (true) {
      await sleep(1000);
      const status = await APIs.getAgentBarStatus();
      if (status === AgentBarStatus.AgentReady) {
        safeConsole('轮询: 已回到空闲');
        return false;
      }
    }
  })();
});
softPhone.register(EnumEventName.onCallWillAnswer, e => {
  safeConsole('呼入电话执行接听动作', e);
});
softPhone.register(EnumEventName.onCallEstablishForCallin, e => {
  safeConsole('已接听来电', e);
});
softPhone.register(EnumEventName.onCallEstablishForCallout, e => {
  safeConsole('呼出通话建立完成', e);
});
softPhone.register(EnumEventName.onCallWillHangup, e => {
  safeConsole('挂断回调', e);
});
softPhone.register(EnumEventName.onCallDidHangup, e => {
  safeConsole('呼入电话挂断完成', e);
});
softPhone.register(EnumEventName.onCallOutDidHangup, e => {
  safeConsole('呼出电话挂断完成', e);
});
softPhone.register(EnumEventName.onCallHold, (e) => {
  safeConsole('通话保持', e);
});
softPhone.register(EnumEventName.onCallRecovery, () => {
  safeConsole('通话恢复');
});
softPhone.register(EnumEventName.onCallTransferOut, () => {
  safeConsole('转交');
});
softPhone.register(EnumEventName['actionError.tokenExpired'], e => {
  safeConsole('token失效', e);
});
`;
}

/** Test probes (not guide code): every actionError and actionSuccess, into window.__errors / window.__successes. */
export const PROBES = `
window.__successes = [];
softPhone.register(EnumEventName.actionError, (e) => window.__errors.push(e.data));
softPhone.register(EnumEventName.actionSuccess, (e) => window.__successes.push(e.data.action));
`;
