// The wallboard page: the live state of one instance, for a screen on the wall. Plain script, no build step. It
// asks once for the admin key (or a backend token), keeps it in sessionStorage (this tab only, never the URL), opens
// the live wallboard socket and redraws on every snapshot; between snapshots it ticks waits and durations itself.

(() => {
  const $ = (selector) => document.querySelector(selector);
  const SESSION_KEY = 'openhotline.wallboard';
  const LOCALE_KEY = 'openhotline.wallboard.locale';
  /** Close codes of the live socket (protocol: WallboardCloseCode). */
  const AUTH_FAILED = 4001;
  const REFUSED = 4004;
  /** The server pushes at least every 15 s: a silent socket after this long is dead, whatever it says. */
  const SILENCE_MS = 40_000;

  const TEXT = {
    en: {
      title: 'Wallboard',
      signOut: 'Sign out',
      loginTitle: 'Show the wallboard',
      loginNote: 'Enter the admin key, or a backend token of the instance. It is kept in this tab only.',
      instanceLabel: 'Instance',
      keyLabel: 'Admin key or backend token',
      targetLabel: 'Service level target (seconds)',
      show: 'Show wallboard',
      kpis: 'Key figures',
      waiting: 'Waiting',
      longestWait: 'Longest wait',
      serviceLevel: 'Service level',
      offered30: 'Offered · 30 min',
      answered30: 'Answered · 30 min',
      abandoned30: 'Abandoned · 30 min',
      asa: 'Avg. speed of answer',
      aht: 'Avg. handle time',
      agents: 'Agents',
      queues: 'Queues',
      queue: 'Queue',
      readyAgents: 'Ready',
      calls: 'Calls in progress',
      number: 'Number',
      state: 'State',
      agent: 'Agent',
      duration: 'Duration',
      noCalls: 'No calls right now.',
      chartCalls: 'Calls per minute · last 30 min',
      chartServiceLevel: 'Service level per 5 min · last 2 h',
      offered: 'Offered',
      answered: 'Answered',
      abandoned: 'Abandoned',
      slLegend: (s) => `Answered within ${s} s`,
      target: (s) => `≤ ${s} s`,
      offline: 'offline',
      connecting: 'Connecting…',
      live: 'Live',
      reconnecting: (s) => `Connection lost, retrying in ${s} s`,
      badKey: 'The key was refused. Enter it again.',
      refused: (message) => `The server refused: ${message}`,
      basic: {
        AgentReady: 'Ready',
        AgentBusyForCall: 'On a call',
        AgentAcw: 'After-call work',
        AgentBreak: 'On break',
        AgentCheckin: 'Checked in',
        AgentCheckout: 'Checked out',
        AgentUnregistered: 'Not registered',
      },
      callState: {
        queued: 'Waiting',
        ringing: 'Ringing',
        dialing: 'Dialing',
        talking: 'Talking',
        held: 'On hold',
        consulting: 'Consulting',
        conference: 'Conference',
      },
      direction: { inbound: 'In', outbound: 'Out', internal: 'Internal' },
    },
    'zh-CN': {
      title: '实时监控大屏',
      signOut: '退出',
      loginTitle: '打开监控大屏',
      loginNote: '请输入管理密钥或该实例的后端令牌，仅保存在当前标签页。',
      instanceLabel: '实例',
      keyLabel: '管理密钥或后端令牌',
      targetLabel: '服务水平目标（秒）',
      show: '打开大屏',
      kpis: '关键指标',
      waiting: '排队中',
      longestWait: '最长等待',
      serviceLevel: '服务水平',
      offered30: '呼入量 · 30 分钟',
      answered30: '接通量 · 30 分钟',
      abandoned30: '放弃量 · 30 分钟',
      asa: '平均应答速度',
      aht: '平均处理时长',
      agents: '坐席',
      queues: '队列',
      queue: '队列',
      readyAgents: '空闲坐席',
      calls: '进行中的通话',
      number: '号码',
      state: '状态',
      agent: '坐席',
      duration: '时长',
      noCalls: '当前没有通话。',
      chartCalls: '每分钟呼叫量 · 最近 30 分钟',
      chartServiceLevel: '每 5 分钟服务水平 · 最近 2 小时',
      offered: '呼入',
      answered: '接通',
      abandoned: '放弃',
      slLegend: (s) => `${s} 秒内接通`,
      target: (s) => `≤ ${s} 秒`,
      offline: '离线',
      connecting: '连接中…',
      live: '实时',
      reconnecting: (s) => `连接已断开，${s} 秒后重试`,
      badKey: '密钥无效，请重新输入。',
      refused: (message) => `服务器拒绝：${message}`,
      basic: {
        AgentReady: '空闲',
        AgentBusyForCall: '通话中',
        AgentAcw: '话后处理',
        AgentBreak: '小休',
        AgentCheckin: '签入',
        AgentCheckout: '签出',
        AgentUnregistered: '未注册',
      },
      callState: {
        queued: '排队中',
        ringing: '振铃',
        dialing: '外拨中',
        talking: '通话中',
        held: '保持',
        consulting: '咨询中',
        conference: '会议',
      },
      direction: { inbound: '呼入', outbound: '呼出', internal: '内部' },
    },
  };
  /** The order of the state counts: what a supervisor looks at first comes first. */
  const BASIC_ORDER = [
    'AgentReady',
    'AgentBusyForCall',
    'AgentAcw',
    'AgentBreak',
    'AgentCheckin',
    'AgentCheckout',
    'AgentUnregistered',
  ];

  let locale = localStorage.getItem(LOCALE_KEY) ?? (navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en');
  let session = readSession();
  let socket = null;
  let board = null;
  /** Server time minus local time, from the last snapshot: ticking uses the server's clock. */
  let clockOffset = 0;
  let retries = 0;
  let retryTimer = null;
  let silenceTimer = null;
  let connectionState = 'idle';
  let retryAt = 0;

  const t = () => TEXT[locale];
  const serverNow = () => Date.now() + clockOffset;

  function readSession() {
    try {
      const value = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
      return value && typeof value.key === 'string' && typeof value.instanceId === 'string' ? value : null;
    } catch {
      return null;
    }
  }

  // ------------------------------------------------------------------ formatting

  function duration(ms) {
    const total = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = String(total % 60).padStart(2, '0');
    return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
  }

  const seconds = (ms) => (ms === null ? '–' : `${Math.round(ms / 1000)}s`);
  const percent = (value) => (value === null ? '–' : `${Math.round(value)}%`);
  const hhmm = (epochMs) => {
    const d = new Date(epochMs);
    return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  };

  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (name === 'class') node.className = value;
      else if (name === 'text') node.textContent = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  // ------------------------------------------------------------------ locale

  function applyLocale() {
    document.documentElement.lang = locale;
    for (const node of document.querySelectorAll('[data-text]')) {
      const value = t()[node.dataset.text];
      if (typeof value === 'string') node.textContent = value;
    }
    document.title = `OpenHotline ${t().title}`;
    const other = locale === 'en' ? 'zh-CN' : 'en';
    $('#locale').textContent = other === 'en' ? 'English' : '中文';
    $('#locale').lang = other;
    showConnection(connectionState);
    if (board) render();
  }

  $('#locale').addEventListener('click', () => {
    locale = locale === 'en' ? 'zh-CN' : 'en';
    localStorage.setItem(LOCALE_KEY, locale);
    applyLocale();
  });

  // ------------------------------------------------------------------ connection

  function showConnection(state) {
    connectionState = state;
    const node = $('#connection');
    node.dataset.state = state;
    if (state === 'live') node.textContent = t().live;
    else if (state === 'connecting') node.textContent = t().connecting;
    else if (state === 'retrying')
      node.textContent = t().reconnecting(Math.max(1, Math.ceil((retryAt - Date.now()) / 1000)));
    else node.textContent = '';
  }

  function connect() {
    if (!session) return;
    clearTimeout(retryTimer);
    showConnection('connecting');
    const query = new URLSearchParams({ access_token: session.key });
    if (session.serviceLevelSeconds) query.set('serviceLevelSeconds', String(session.serviceLevelSeconds));
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const url = `${scheme}://${location.host}/v1/admin/instances/${encodeURIComponent(session.instanceId)}/wallboard/live?${query}`;
    const ws = new WebSocket(url);
    socket = ws;
    let refusal = null;
    ws.onmessage = (event) => {
      if (ws !== socket) return;
      const frame = JSON.parse(event.data);
      armSilence();
      if (frame.type === 'error') refusal = frame;
      if (frame.type !== 'snapshot') return;
      retries = 0;
      board = frame.wallboard;
      clockOffset = board.serverTime - Date.now();
      showConnection('live');
      showBoard();
      render();
    };
    ws.onclose = (event) => {
      if (ws !== socket) return;
      socket = null;
      clearTimeout(silenceTimer);
      if (event.code === AUTH_FAILED) return signOut(t().badKey);
      if (event.code === REFUSED) return signOut(t().refused(refusal?.message ?? event.reason));
      scheduleReconnect();
    };
  }

  /** Back off 1, 2, 4… up to 30 s, with jitter so that many screens do not come back at once. */
  function scheduleReconnect() {
    const delay = Math.min(30_000, 1000 * 2 ** retries) * (0.75 + Math.random() * 0.5);
    retries += 1;
    retryAt = Date.now() + delay;
    showConnection('retrying');
    retryTimer = setTimeout(connect, delay);
  }

  function armSilence() {
    clearTimeout(silenceTimer);
    silenceTimer = setTimeout(() => socket?.close(), SILENCE_MS);
  }

  function signOut(message = '') {
    session = null;
    sessionStorage.removeItem(SESSION_KEY);
    clearTimeout(retryTimer);
    const open = socket;
    socket = null;
    open?.close();
    board = null;
    showConnection('idle');
    $('#board').hidden = true;
    $('#sign-out').hidden = true;
    $('#instance-name').textContent = '';
    $('#login').hidden = false;
    $('#login-error').textContent = message;
    $('#key-form').elements.key.value = '';
    $('#key-form').elements.key.focus();
  }

  function showBoard() {
    $('#login').hidden = true;
    $('#board').hidden = false;
    $('#sign-out').hidden = false;
  }

  $('#key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.currentTarget.elements;
    const target = Number(form.serviceLevelSeconds.value);
    session = {
      instanceId: form.instanceId.value.trim(),
      key: form.key.value.trim(),
      serviceLevelSeconds: Number.isInteger(target) && target >= 1 && target <= 3600 ? target : undefined,
    };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    $('#login-error').textContent = '';
    retries = 0;
    connect();
  });

  $('#sign-out').addEventListener('click', () => signOut());

  // ------------------------------------------------------------------ rendering

  function render() {
    const text = t();
    $('#instance-name').textContent = board.instanceName;
    const queues = board.queues;
    const waiting = queues.reduce((sum, q) => sum + q.waiting, 0);
    $('#kpi-waiting').textContent = String(waiting);
    $('#kpi-waiting').parentElement.classList.toggle('alert', waiting > 0);
    const summary = board.summary.last30Minutes;
    $('#kpi-target').textContent = text.target(board.serviceLevelSeconds);
    $('#kpi-sl').textContent = percent(summary.serviceLevelPercent);
    $('#kpi-offered').textContent = String(summary.offered);
    $('#kpi-answered').textContent = String(summary.answered);
    $('#kpi-abandoned').textContent = String(summary.abandoned);
    $('#kpi-asa').textContent = seconds(summary.averageSpeedOfAnswerMs);
    $('#kpi-aht').textContent = seconds(summary.averageHandleTimeMs);
    $('#sl-legend').textContent = text.slLegend(board.serviceLevelSeconds);

    $('#agent-counts').replaceChildren(
      ...BASIC_ORDER.filter((code) => board.agentCounts[code] > 0 || code === 'AgentReady').map((code) =>
        el(
          'li',
          { class: `count state-${code}`, 'data-testid': `count-${code}` },
          el('b', { text: String(board.agentCounts[code] ?? 0) }),
          el('span', { text: text.basic[code] }),
        ),
      ),
    );

    const agents = [...board.agents].sort(
      (a, b) =>
        BASIC_ORDER.indexOf(a.basicCode) - BASIC_ORDER.indexOf(b.basicCode) || a.agentId.localeCompare(b.agentId),
    );
    $('#agents').replaceChildren(
      ...agents.map((agent) => {
        const status = agent.statusText[locale] ?? agent.statusText.en;
        const reason = agent.breakReasonText ? ` · ${agent.breakReasonText[locale] ?? agent.breakReasonText.en}` : '';
        return el(
          'li',
          {
            class: `agent state-${agent.basicCode}${agent.online ? '' : ' is-offline'}`,
            'data-testid': `agent-${agent.agentId}`,
          },
          el('span', { class: 'agent-name', text: agent.name }),
          el('span', { class: 'agent-id', text: agent.agentId }),
          el('span', { class: 'agent-status', 'data-testid': 'agent-status', text: status + reason }),
          // An agent never seen since the server started has no time in state worth showing.
          el('span', { class: 'agent-time tick', ...(agent.since > 0 ? { 'data-since': String(agent.since) } : {}) }),
        );
      }),
    );

    $('#queues').replaceChildren(
      ...queues.map((queue) =>
        el(
          'tr',
          { 'data-testid': `queue-${queue.skillGroupId}`, class: queue.waiting > 0 ? 'busy' : '' },
          el('td', { text: queue.name }),
          el('td', { class: 'num', 'data-testid': 'queue-waiting', text: String(queue.waiting) }),
          el('td', {
            class: 'num tick',
            ...(queue.oldestQueuedAt !== null ? { 'data-since': String(queue.oldestQueuedAt) } : {}),
            text: queue.oldestQueuedAt === null ? '–' : '',
          }),
          el('td', { class: 'num', text: String(queue.readyAgents) }),
        ),
      ),
    );

    $('#calls').replaceChildren(
      ...board.calls.map((call) =>
        el(
          'tr',
          { 'data-testid': `call-${call.connId}`, class: `call-${call.state}` },
          el('td', { class: 'mono', text: `${text.direction[call.direction]} ${call.number}` }),
          el('td', { text: text.callState[call.state] ?? call.state }),
          el('td', { text: call.agentName || call.agentId || '–' }),
          el('td', { class: 'num tick', 'data-since': String(call.startedAt) }),
        ),
      ),
    );
    $('#no-calls').hidden = board.calls.length > 0;

    drawCallsChart(board.charts.perMinute, text);
    drawServiceLevelChart(board.charts.perFiveMinutes, board.serviceLevelSeconds);
    tick();
  }

  /** Waits, durations and times in state count up between snapshots, on the server's clock. */
  function tick() {
    const now = serverNow();
    $('#clock').textContent = new Date(now).toLocaleTimeString(locale, { hour12: false });
    if (connectionState === 'retrying') showConnection('retrying');
    if (!board) return;
    for (const node of document.querySelectorAll('.tick[data-since]')) {
      node.textContent = duration(now - Number(node.dataset.since));
    }
    const oldest = board.queues.reduce(
      (min, q) => (q.oldestQueuedAt === null ? min : Math.min(min, q.oldestQueuedAt)),
      Number.POSITIVE_INFINITY,
    );
    $('#kpi-longest').textContent = Number.isFinite(oldest) ? duration(now - oldest) : '0:00';
  }

  // ------------------------------------------------------------------ charts (hand-drawn SVG)

  const SVG = 'http://www.w3.org/2000/svg';
  const W = 600;
  const H = 200;
  const PAD = { top: 14, right: 8, bottom: 22, left: 42 };

  function svg(tag, attributes, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function axes(chart, intervals, yMaxLabel) {
    const bottom = H - PAD.bottom;
    chart.append(svg('line', { x1: PAD.left, y1: bottom, x2: W - PAD.right, y2: bottom, class: 'axis' }));
    chart.append(svg('text', { x: PAD.left - 4, y: PAD.top + 4, class: 'label', 'text-anchor': 'end' }, yMaxLabel));
    chart.append(svg('text', { x: PAD.left - 4, y: bottom, class: 'label', 'text-anchor': 'end' }, '0'));
    const step = (W - PAD.left - PAD.right) / intervals.length;
    for (const index of [0, Math.floor(intervals.length / 2), intervals.length - 1]) {
      const interval = intervals[index];
      if (!interval) continue;
      chart.append(
        svg(
          'text',
          { x: PAD.left + step * (index + 0.5), y: H - 6, class: 'label', 'text-anchor': 'middle' },
          hhmm(interval.start),
        ),
      );
    }
    return step;
  }

  function drawCallsChart(intervals, text) {
    const chart = $('#chart-calls');
    chart.replaceChildren();
    const max = Math.max(1, ...intervals.map((i) => Math.max(i.offered, i.answered, i.abandoned)));
    const step = axes(chart, intervals, String(max));
    const height = H - PAD.top - PAD.bottom;
    const width = step / 3.6;
    intervals.forEach((interval, index) => {
      const x0 = PAD.left + step * index + step * 0.1;
      [
        ['offered', interval.offered],
        ['answered', interval.answered],
        ['abandoned', interval.abandoned],
      ].forEach(([kind, value], k) => {
        if (value === 0) return;
        const h = (value / max) * height;
        const bar = svg('rect', {
          x: x0 + k * width,
          y: H - PAD.bottom - h,
          width: width * 0.92,
          height: h,
          class: `bar ${kind}`,
        });
        bar.append(svg('title', {}, `${hhmm(interval.start)} ${text[kind]}: ${value}`));
        chart.append(bar);
      });
    });
  }

  function drawServiceLevelChart(intervals, targetSeconds) {
    const chart = $('#chart-sl');
    chart.replaceChildren();
    const step = axes(chart, intervals, '100%');
    const height = H - PAD.top - PAD.bottom;
    const y = (value) => H - PAD.bottom - (value / 100) * height;
    // The usual goal (80% within the target) as a guide line.
    chart.append(svg('line', { x1: PAD.left, y1: y(80), x2: W - PAD.right, y2: y(80), class: 'goal' }));
    chart.append(svg('text', { x: W - PAD.right, y: y(80) - 4, class: 'label', 'text-anchor': 'end' }, '80%'));
    // A gap where no call stopped waiting: no figure is not a zero.
    let segment = [];
    const flush = () => {
      if (segment.length > 1) chart.append(svg('polyline', { points: segment.join(' '), class: 'line' }));
      segment = [];
    };
    for (const [index, interval] of intervals.entries()) {
      if (interval.serviceLevelPercent === null) {
        flush();
        continue;
      }
      const x = PAD.left + step * (index + 0.5);
      const point = svg('circle', { cx: x, cy: y(interval.serviceLevelPercent), r: 4, class: 'dot' });
      point.append(
        svg('title', {}, `${hhmm(interval.start)} ${percent(interval.serviceLevelPercent)} (≤ ${targetSeconds} s)`),
      );
      chart.append(point);
      segment.push(`${x},${y(interval.serviceLevelPercent)}`);
    }
    flush();
  }

  // ------------------------------------------------------------------ start

  applyLocale();
  setInterval(tick, 1000);
  tick();
  if (session) {
    $('#key-form').elements.instanceId.value = session.instanceId;
    connect();
  } else {
    const instance = new URLSearchParams(location.search).get('instance');
    if (instance) $('#key-form').elements.instanceId.value = instance;
  }
})();
