// The sandbox page: the guide's preview page for an OpenHotline server. Plain script, no build step: it uses the
// SDK exactly as an integrator's page does, through window.SoftPhoneSDK from /sdk/sdk.js.

(() => {
  if (!window.SoftPhoneSDK) {
    // /sdk/sdk.js answered 503: the server runs from a checkout whose SDK was never built.
    document.querySelector('.top p').textContent = 'The SDK bundle is not built: run `npm run build`, then reload.';
    return;
  }
  const { SoftPhone, APIs, EnumEventName, EnumLocale } = window.SoftPhoneSDK;
  const softPhone = SoftPhone.getInstance();
  const $ = (selector) => document.querySelector(selector);
  const STORE_KEY = 'openhotline.sandbox';
  const MAX_LOG = 400;

  // ------------------------------------------------------------------ the event log

  const log = $('#log');

  function summary(name, data) {
    if (!data || typeof data !== 'object') return '';
    if (name === 'actionError' || name === 'actionError.tokenExpired') return `${data.action}: ${data.code}`;
    if (name === 'actionSuccess') return data.action;
    if (data.head?.agentCallCode) return `${data.head.agentCallCode} (status ${data.head.status})`;
    if (data.agentCallCode) return `${data.agentCallCode}${data.connId ? ` ${data.connId}` : ''}`;
    return '';
  }

  function addLog(name, data, kind = 'event') {
    const item = document.createElement('li');
    item.className = `log-item log-${kind}`;
    item.dataset.event = name;
    const time = new Date().toLocaleTimeString(undefined, { hour12: false });
    const details = document.createElement('details');
    const head = document.createElement('summary');
    head.innerHTML = '<span class="log-time"></span> <span class="log-name"></span> <span class="log-sum"></span>';
    head.querySelector('.log-time').textContent = time;
    head.querySelector('.log-name').textContent = name;
    head.querySelector('.log-sum').textContent = summary(name, data);
    const body = document.createElement('pre');
    body.textContent = JSON.stringify(data, null, 2) ?? 'undefined';
    details.append(head, body);
    item.append(details);
    log.prepend(item);
    while (log.children.length > MAX_LOG) log.lastElementChild.remove();
  }

  $('#clear-log').addEventListener('click', () => {
    log.textContent = '';
  });

  // Every lifecycle event of the guide, with its payload.
  for (const name of Object.values(EnumEventName)) {
    softPhone.register(name, (eventData) => addLog(name, eventData.data));
  }
  // And every message of the live channel, as takeWebSocketNotify subscribers see it.
  const notify = APIs.takeWebSocketNotify();
  const onNotify = (msgData) => {
    if ($('#log-notify').checked) addLog(`notify ${msgData.sceneType}`, msgData, 'notify');
  };
  notify.on('hotline-message', onNotify);
  notify.on('voice-to-text', onNotify);

  // ------------------------------------------------------------------ where the server is

  function serverUrl() {
    const apiHost = configForm.elements.apiHost.value.trim();
    if (apiHost === '') return location.origin;
    if (/^https?:\/\//.test(apiHost)) return apiHost.replace(/\/$/, '');
    return `${location.protocol}//${apiHost}`;
  }

  async function postJson(path, body, token) {
    const response = await fetch(`${serverUrl()}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    const json = text ? JSON.parse(text) : undefined;
    if (!response.ok) throw Object.assign(new Error(json?.message ?? response.statusText), { body: json });
    return json;
  }

  // ------------------------------------------------------------------ 2. setConfig

  const configForm = $('#config-form');
  const BOOLEAN_OPTIONS = ['isPlugin', 'needDesensitize', 'canChangeStatusByHand', 'enableServiceSummary', 'disableUI'];

  function optionValue(name) {
    const f = configForm.elements;
    if (BOOLEAN_OPTIONS.includes(name)) return f[name].checked;
    if (name === 'enableVoiceToText') {
      return [...configForm.querySelectorAll('input[name=enableVoiceToText]')]
        .filter((i) => i.checked)
        .map((i) => i.value);
    }
    if (name === 'autoChangeOnLineTime') return Number(f[name].value);
    return f[name].value.trim();
  }

  const OPTION_NAMES = [
    'InstanceId',
    'BearerToken',
    'env',
    'apiHost',
    'Version',
    'locale',
    'isPlugin',
    'needDesensitize',
    'autoChangeOnLineTime',
    'canChangeStatusByHand',
    'enableVoiceToText',
    'enableServiceSummary',
    'disableUI',
    'cdnPath',
  ];

  function fullConfig() {
    return Object.fromEntries(OPTION_NAMES.map((name) => [name, optionValue(name)]));
  }

  function applyConfig(partial) {
    addLog('→ setConfig', partial, 'call');
    const applied = softPhone.setConfig(partial);
    save();
    return applied;
  }

  configForm.addEventListener('change', (event) => {
    const name = event.target.name;
    if (!OPTION_NAMES.includes(name)) return;
    applyConfig({ [name]: optionValue(name) });
  });
  configForm.addEventListener('submit', (event) => {
    event.preventDefault();
    applyConfig(fullConfig());
  });
  $('#show-config').addEventListener('click', () => addLog('← getConfig()', softPhone.getConfig(), 'result'));

  // ------------------------------------------------------------------ 1. the token

  const tokenForm = $('#token-form');
  const tokenStatus = $('#token-status');

  async function fetchToken() {
    const f = tokenForm.elements;
    const body = {
      grant_type: 'client_credentials',
      client_id: f.clientId.value.trim(),
      client_secret: f.clientSecret.value,
      agent_id: f.agentId.value.trim(),
    };
    addLog('→ POST /oauth2/token', { ...body, client_secret: '…' }, 'call');
    const answer = await postJson('/oauth2/token', body);
    return answer.access_token;
  }

  async function getTokenAndApply() {
    tokenStatus.textContent = 'Getting a token…';
    try {
      const token = await fetchToken();
      configForm.elements.BearerToken.value = token;
      applyConfig({ InstanceId: optionValue('InstanceId'), BearerToken: token });
      tokenStatus.textContent = `Token for agent ${tokenForm.elements.agentId.value.trim()} applied.`;
    } catch (error) {
      tokenStatus.textContent = `No token: ${error.message}`;
      addLog('✗ /oauth2/token', error.body ?? String(error), 'error');
    }
  }

  tokenForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void getTokenAndApply();
  });

  // The host's side of token expiry: a fresh token from "the backend", once per expiry.
  softPhone.register(EnumEventName['actionError.tokenExpired'], () => {
    if (tokenForm.elements.autoRefresh.checked) void getTokenAndApply();
  });

  // ------------------------------------------------------------------ 3. the virtual carrier

  const carrierForm = $('#carrier-form');
  let lastVirtualCall = '';

  async function adminToken() {
    const key = carrierForm.elements.adminKey.value.trim();
    if (key) return key;
    // A backend token (no agent_id) may use its own instance's admin routes: the demo client's is enough here.
    const f = tokenForm.elements;
    const answer = await postJson('/oauth2/token', {
      grant_type: 'client_credentials',
      client_id: f.clientId.value.trim(),
      client_secret: f.clientSecret.value,
    });
    return answer.access_token;
  }

  carrierForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = carrierForm.elements;
    const body = { from: f.from.value.trim(), to: f.to.value.trim() };
    if (f.hangupAfterSeconds.value !== '') body.hangupAfterSeconds = Number(f.hangupAfterSeconds.value);
    const instance = encodeURIComponent(optionValue('InstanceId') || 'demo');
    addLog('→ virtual call', body, 'call');
    try {
      const answer = await postJson(`/v1/admin/instances/${instance}/virtual-calls`, body, await adminToken());
      lastVirtualCall = answer.connId;
      addLog('← virtual call', answer, 'result');
    } catch (error) {
      addLog('✗ virtual call', error.body ?? String(error), 'error');
    }
  });

  $('#customer-hangup').addEventListener('click', async () => {
    const connId = apiForm.elements.connId.value.trim() || lastVirtualCall;
    if (!connId) return;
    const instance = encodeURIComponent(optionValue('InstanceId') || 'demo');
    addLog('→ customer hangs up', { connId }, 'call');
    try {
      await postJson(
        `/v1/admin/instances/${instance}/virtual-calls/${encodeURIComponent(connId)}/hangup`,
        {},
        await adminToken(),
      );
    } catch (error) {
      addLog('✗ customer hangs up', error.body ?? String(error), 'error');
    }
  });

  // ------------------------------------------------------------------ 4. every API

  const apiForm = $('#api-form');
  const arg = (name) => apiForm.elements[name].value.trim();
  const connId = () => arg('connId') || undefined;
  const target = () => {
    const type = arg('targetType');
    const value = arg('target');
    if (type === 'agent') return { type, agentId: value };
    if (type === 'skillGroup') return { type, skillGroupId: value };
    return { type, number: value };
  };
  const callIds = () => {
    const call = connId() ? undefined : APIs.getCurrentCall();
    return call ? [call.connId, call.jobId, call.acid, call.aid] : [connId()];
  };

  const GUIDE_APIS = {
    renderComponent: () => [softPhone.getUIComponent(), $('#phone-container')],
    doCallOut: () => [
      {
        number: arg('number'),
        onSuccess: (call) => addLog('doCallOut onSuccess', call, 'result'),
        param: {
          number: arg('number'),
          memberId: -1,
          memberName: '匿名会员',
          fromSource: 'other_system_out',
          ...(arg('calloutNumber') ? { calloutNumber: arg('calloutNumber') } : {}),
        },
      },
    ],
    startWork: () => [],
    agentCheckin: () => [],
    agentCheckout: () => [],
    getAgentBarStatus: () => [],
    callAnswer: callIds,
    callHangup: callIds,
    takeWebSocketNotify: () => [],
  };
  const MORE_APIS = {
    agentReady: () => [],
    agentBreak: () => [arg('reasonCode') || undefined],
    callHold: () => [connId()],
    callRetrieve: () => [connId()],
    'callMute(true)': () => [true, connId()],
    'callMute(false)': () => [false, connId()],
    sendDtmf: () => [arg('digits'), connId()],
    callTransfer: () => [target(), connId()],
    callConsult: () => [target(), connId()],
    consultComplete: () => [connId()],
    consultCancel: () => [connId()],
    callConference: () => [connId()],
    callInternal: () => [arg('internalAgent')],
    getAgentInfo: () => [],
    getCalls: () => [],
    getCurrentCall: () => [],
    checkEnvironment: () => [],
  };

  function printable(value) {
    if (value instanceof Element) return `<${value.tagName.toLowerCase()}#${value.id}>`;
    if (typeof value === 'function') return value.displayName ? `[component ${value.displayName}]` : '[function]';
    if (value && typeof value === 'object' && typeof value.on === 'function' && 'socket' in value) {
      return { listenerContainer: Object.keys(value.listenerContainer), socket: { url: value.socket.url } };
    }
    return value;
  }

  async function callApi(label, name, args) {
    addLog(`→ APIs.${label}`, args.map(printable), 'call');
    try {
      const result = await APIs[name](...args);
      addLog(`← APIs.${label}`, printable(result), 'result');
    } catch (error) {
      addLog(`✗ APIs.${label}`, String(error), 'error');
    }
  }

  function buttons(container, table) {
    for (const [label, args] of Object.entries(table)) {
      const name = label.replace(/\(.*\)$/, '');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = label;
      button.addEventListener('click', () => void callApi(label, name, args()));
      $(container).append(button);
    }
  }
  buttons('#guide-apis', GUIDE_APIS);
  buttons('#more-apis', MORE_APIS);

  // ------------------------------------------------------------------ remembering the forms

  function save() {
    try {
      const forms = {};
      for (const form of [tokenForm, configForm, carrierForm]) {
        for (const field of form.elements) {
          if (!field.name || field.name === 'BearerToken' || field.name === 'adminKey') continue;
          const key =
            field.type === 'checkbox' && field.name === 'enableVoiceToText' ? `v2t:${field.value}` : field.name;
          forms[key] = field.type === 'checkbox' ? field.checked : field.value;
        }
      }
      localStorage.setItem(STORE_KEY, JSON.stringify(forms));
    } catch {
      // Storage blocked: the page works, it just forgets.
    }
  }

  function restore() {
    let forms;
    try {
      forms = JSON.parse(localStorage.getItem(STORE_KEY) ?? 'null');
    } catch {
      forms = null;
    }
    if (!forms) {
      // First visit: the dial bar speaks the browser's language.
      configForm.elements.locale.value = navigator.language?.startsWith('zh') ? EnumLocale['zh-CN'] : EnumLocale.en;
      return;
    }
    for (const form of [tokenForm, configForm, carrierForm]) {
      for (const field of form.elements) {
        if (!field.name) continue;
        const key = field.type === 'checkbox' && field.name === 'enableVoiceToText' ? `v2t:${field.value}` : field.name;
        if (!(key in forms)) continue;
        if (field.type === 'checkbox') field.checked = Boolean(forms[key]);
        else field.value = forms[key];
      }
    }
  }

  // ------------------------------------------------------------------ start

  restore();
  const initial = fullConfig();
  delete initial.BearerToken;
  applyConfig(initial);
  APIs.renderComponent(softPhone.getUIComponent(), $('#phone-container'));
  window.sandbox = { softPhone, addLog, getTokenAndApply };
})();
