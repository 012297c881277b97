// The customer web-call page: calls a hotline number from the browser over the public web-call socket
// (/v1/webcall, frames in packages/protocol/src/webcall.ts) with a real WebRTC audio leg. No token, no SDK.
// Query: ?to=<hotline number> preselects a number, ?instance=<id> lists that instance's numbers (default demo),
// ?lang=en|zh-CN picks the language.
(() => {
  const TEXTS = {
    'zh-CN': {
      title: '拨打热线',
      intro: '在浏览器里拨打热线号码，与坐席通话（演示与测试用）。',
      number: '热线号码',
      call: '呼叫',
      hangup: '挂断',
      keypad: '拨号键盘',
      sandbox: '沙盒页面（坐席端）',
      language: 'English',
      idle: '未通话',
      microphone: '正在请求麦克风…',
      connecting: '正在连接…',
      queued: (p) => `排队中，您前面还有 ${Math.max(0, p - 1)} 位`,
      ringing: '正在为您接通坐席…',
      connected: '通话中',
      held: '通话保持中，请稍候',
      ended: '通话已结束',
      callerId: (id) => `您的来电标识：${id}`,
      reasons: {
        'caller-hangup': '您已挂断',
        'agent-hangup': '坐席已挂断',
        'no-agent': '暂时没有坐席接听，请稍后再拨',
        'media-failed': '无法建立语音连接（网络或防火墙阻止了音频）',
        'too-long': '通话已达到最长时长',
        'server-shutdown': '服务器正在重启，请稍后再拨',
        failed: '呼叫失败',
      },
      lost: '与服务器的连接已断开',
      errors: {
        HotlineNumberNotFound: '该号码不是热线号码',
        WebCallLimit: '当前网页呼叫过多，请稍后再拨',
        ServiceUnavailable: '此服务器未开放网页呼叫',
      },
      mic: {
        NotAllowedError: '麦克风权限被拒绝。请在浏览器地址栏允许使用麦克风后重试。',
        NotFoundError: '没有找到麦克风。请连接麦克风后重试。',
        NotReadableError: '麦克风正被其他程序占用，或无法读取。',
        insecure: '浏览器只在 HTTPS（或 localhost）页面上允许使用麦克风。',
        other: '无法使用麦克风',
      },
    },
    en: {
      title: 'Call a hotline',
      intro: 'Call a hotline number from your browser and talk to an agent (for demos and tests).',
      number: 'Hotline number',
      call: 'Call',
      hangup: 'Hang up',
      keypad: 'Keypad',
      sandbox: 'The sandbox (agent side)',
      language: '中文',
      idle: 'Not in a call',
      microphone: 'Asking for the microphone…',
      connecting: 'Connecting…',
      queued: (p) => (p <= 1 ? 'In the queue: you are next' : `In the queue: ${p - 1} caller(s) ahead of you`),
      ringing: 'Ringing an agent…',
      connected: 'In the call',
      held: 'On hold, please wait',
      ended: 'Call ended',
      callerId: (id) => `Your caller id: ${id}`,
      reasons: {
        'caller-hangup': 'You hung up',
        'agent-hangup': 'The agent hung up',
        'no-agent': 'No agent could take the call; please try again later',
        'media-failed': 'The audio could not be connected (a network or firewall blocks it)',
        'too-long': 'The call reached its longest allowed length',
        'server-shutdown': 'The server is restarting; please call again later',
        failed: 'The call failed',
      },
      lost: 'The connection to the server was lost',
      errors: {
        HotlineNumberNotFound: 'That is not a hotline number',
        WebCallLimit: 'Too many web calls right now; please try again later',
        ServiceUnavailable: 'This server does not take web calls',
      },
      mic: {
        NotAllowedError: 'Microphone access was refused. Allow the microphone in the address bar, then call again.',
        NotFoundError: 'No microphone was found. Connect one, then call again.',
        NotReadableError: 'The microphone is in use by another program, or cannot be read.',
        insecure: 'Browsers allow the microphone only on HTTPS pages (or localhost).',
        other: 'The microphone cannot be used',
      },
    },
  };

  const params = new URLSearchParams(location.search);
  let locale = params.get('lang') === 'en' || params.get('lang') === 'zh-CN' ? params.get('lang') : null;
  locale ??= (navigator.language || '').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
  const instance = params.get('instance') || 'demo';
  const $ = (id) => document.getElementById(id);
  const ui = {
    form: $('dial'),
    to: $('to'),
    numbers: $('numbers'),
    call: $('call'),
    hangup: $('hangup'),
    status: $('status'),
    timer: $('timer'),
    callerId: $('caller-id'),
    problem: $('problem'),
    keys: $('keys'),
    // The agent's voice; an element outside the page is enough to play a WebRTC stream.
    remote: Object.assign(new Audio(), { autoplay: true }),
    lang: $('lang'),
  };

  /** The current call, or null: socket, peer connection, microphone, what the server said last. */
  let current = null;
  let shown = { state: 'idle', position: 0, reason: '' };
  let timer = null;

  const t = () => TEXTS[locale];

  function render() {
    document.documentElement.lang = locale;
    for (const element of document.querySelectorAll('[data-text]')) {
      const text = t()[element.dataset.text];
      if (typeof text === 'string') element.textContent = text;
    }
    ui.lang.textContent = t().language;
    const { state, position, reason } = shown;
    ui.status.dataset.state = state;
    ui.status.textContent =
      state === 'queued'
        ? t().queued(position)
        : state === 'ended' && reason
          ? `${t().ended}: ${t().reasons[reason] ?? reason}`
          : (t()[state] ?? state);
    const inCall = current !== null;
    ui.call.disabled = inCall;
    ui.to.disabled = inCall;
    ui.hangup.disabled = !inCall;
    for (const key of ui.keys.children) key.disabled = !(inCall && state === 'connected');
    ui.callerId.textContent = current?.caller ? t().callerId(current.caller) : '';
  }

  function show(state, extra = {}) {
    shown = { state, position: extra.position ?? 0, reason: extra.reason ?? '' };
    if (state === 'connected' && timer === null) startTimer();
    render();
  }

  function problem(text) {
    ui.problem.hidden = !text;
    ui.problem.textContent = text || '';
  }

  function startTimer() {
    const started = Date.now();
    const tick = () => {
      const seconds = Math.floor((Date.now() - started) / 1000);
      ui.timer.textContent = `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
    };
    tick();
    timer = setInterval(tick, 1000);
  }

  function micProblem(error) {
    const texts = t().mic;
    if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) return texts.insecure;
    const name = error?.name === 'PermissionDeniedError' ? 'NotAllowedError' : error?.name;
    return texts[name] ?? `${texts.other}: ${error?.message ?? error}`;
  }

  async function startCall(to) {
    problem('');
    ui.timer.textContent = '00:00';
    current = { caller: '', socket: null, pc: null, mic: null, pending: [], ended: false };
    const call = current;
    show('microphone');
    try {
      if (!navigator.mediaDevices?.getUserMedia) throw new Error('insecure');
      call.mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true } });
    } catch (error) {
      finish(call);
      show('idle');
      problem(micProblem(error));
      return;
    }
    if (call.ended) return;
    show('connecting');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}/v1/webcall`);
    call.socket = socket;
    const send = (frame) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(frame));
    socket.onopen = () => send({ type: 'call', to });
    // Frames are handled one after the other: a candidate must not overtake the answer being applied.
    let handled = Promise.resolve();
    socket.onmessage = (event) => {
      handled = handled.then(() => onFrame(call, JSON.parse(event.data), send)).catch(() => {});
    };
    socket.onclose = () => {
      if (call.ended) return;
      finish(call);
      show('ended', { reason: '' });
      problem(t().lost);
    };
  }

  async function onFrame(call, frame, send) {
    if (call.ended) return;
    switch (frame.type) {
      case 'state':
        call.caller = frame.caller;
        if (frame.state === 'connecting' && !call.pc) await offer(call, send);
        if (frame.state === 'ended') {
          finish(call);
          show('ended', { reason: frame.reason });
        } else if (frame.state !== 'connecting') {
          show(frame.state, { position: frame.position });
        }
        break;
      case 'answer':
        await call.pc?.setRemoteDescription({ type: 'answer', sdp: frame.sdp });
        for (const candidate of call.pending.splice(0)) await addCandidate(call, candidate);
        break;
      case 'candidate':
        if (call.pc?.remoteDescription) await addCandidate(call, frame.candidate);
        else call.pending.push(frame.candidate);
        break;
      case 'error':
        problem(t().errors[frame.code] ?? frame.message);
        break;
    }
  }

  async function offer(call, send) {
    const pc = new RTCPeerConnection({ iceServers: [] });
    call.pc = pc;
    for (const track of call.mic.getAudioTracks()) pc.addTrack(track, call.mic);
    pc.ontrack = (event) => {
      ui.remote.srcObject = event.streams[0] ?? new MediaStream([event.track]);
      ui.remote.play().catch(() => {});
    };
    pc.onicecandidate = (event) =>
      send({ type: 'candidate', candidate: event.candidate ? event.candidate.toJSON() : null });
    const description = await pc.createOffer();
    await pc.setLocalDescription(description);
    send({ type: 'offer', sdp: pc.localDescription.sdp });
  }

  async function addCandidate(call, candidate) {
    await call.pc?.addIceCandidate(candidate ?? null).catch(() => {});
  }

  /** Releases everything of a call: microphone, peer connection, socket, timer. */
  function finish(call) {
    if (call.ended) return;
    call.ended = true;
    for (const track of call.mic?.getTracks() ?? []) track.stop();
    call.pc?.close();
    if (call.socket && call.socket.readyState <= WebSocket.OPEN) call.socket.close();
    clearInterval(timer);
    timer = null;
    if (current === call) current = null;
  }

  function hangUp() {
    const call = current;
    if (!call) return;
    if (call.socket?.readyState === WebSocket.OPEN) call.socket.send(JSON.stringify({ type: 'hangup' }));
    finish(call);
    show('ended', { reason: 'caller-hangup' });
  }

  /** A key: in the audio (RFC 4733, the agent hears it) when the browser can, else as a frame for the record. */
  function press(key) {
    const call = current;
    if (!call?.pc) return;
    const dtmf = call.pc.getSenders().find((s) => s.track?.kind === 'audio')?.dtmf;
    if (dtmf?.canInsertDTMF) dtmf.insertDTMF(key, 120, 70);
    else if (call.socket?.readyState === WebSocket.OPEN)
      call.socket.send(JSON.stringify({ type: 'dtmf', digits: key }));
  }

  for (const key of ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#']) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = key;
    button.dataset.key = key;
    button.addEventListener('click', () => press(key));
    ui.keys.append(button);
  }

  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    const to = ui.to.value.trim();
    if (to && !current) void startCall(to);
  });
  ui.hangup.addEventListener('click', hangUp);
  ui.lang.addEventListener('click', () => {
    locale = locale === 'en' ? 'zh-CN' : 'en';
    render();
  });
  window.addEventListener('pagehide', hangUp);

  async function loadNumbers() {
    const wanted = params.get('to');
    if (wanted) ui.to.value = wanted;
    try {
      const response = await fetch(`/v1/webcall/numbers?instance=${encodeURIComponent(instance)}`);
      if (!response.ok) return;
      const { numbers } = await response.json();
      for (const { number, name } of numbers) {
        const option = document.createElement('option');
        option.value = number;
        option.label = name;
        ui.numbers.append(option);
      }
      if (!ui.to.value && numbers[0]) ui.to.value = numbers[0].number;
    } catch {
      // The list is a convenience: a number can still be typed.
    }
  }

  render();
  void loadNumbers();
})();
