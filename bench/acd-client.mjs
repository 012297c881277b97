/**
 * The agents of the ACD benchmark, run in a worker thread so that they never share the server's event loop
 * (2 cores: one for the server, one for these). Plain JavaScript: a worker needs no loader.
 *
 * Each agent has a live channel and answers automatically, as a softphone with auto-answer would: on an
 * `AgentRinging` hotline-message it answers over HTTP with the ids of the offer, talks for `talkMs`, hangs up,
 * and becomes ready again (after-call work is 0 s, "until the agent acts", so the agent acts at once). The arrival
 * of every `AgentRinging` frame is stamped with `performance.timeOrigin + performance.now()`, a clock the server
 * thread shares, before the frame is parsed.
 *
 * Messages from the main thread:
 *   { type: 'start', channelUrls, httpBase, tokens, talkMs }  → { type: 'ready', ms } once every agent has its
 *                                                               channel open and is checked in
 *   { type: 'collect' }                                       → { type: 'rings', connIds, at, cycles }: the rings
 *                                                               since the last collect, and completed call cycles
 *   { type: 'close' }                                         → { type: 'closed' }
 * and { type: 'fatal', message } whenever something goes wrong (an HTTP error is one: auto-answer must not fail).
 */
import { Agent, request } from 'node:http';
import { parentPort } from 'node:worker_threads';
import WebSocket from 'ws';

const CONNECT_CONCURRENCY = 50;
const now = () => performance.timeOrigin + performance.now();

const port = parentPort;
if (!port) throw new Error('acd-client.mjs runs as a worker thread');

const fatal = (message) => port.postMessage({ type: 'fatal', message });

/** Keep-alive connections, as a browser keeps them: a new TCP handshake per call would measure the kernel. */
const http = new Agent({ keepAlive: true, maxSockets: 64 });
/** @type {WebSocket[]} */
const sockets = [];
/** @type {ReturnType<typeof setInterval>[]} */
const heartbeats = [];
let closing = false;
let base = '';
let talkMs = 0;
/** Rings since the last collect. */
let ringIds = [];
let ringAt = [];
let cycles = 0;

port.on('message', (message) => {
  switch (message.type) {
    case 'start':
      start(message).catch((error) => fatal(`start: ${error.message}`));
      break;
    case 'collect':
      port.postMessage({ type: 'rings', connIds: ringIds, at: Float64Array.from(ringAt), cycles });
      ringIds = [];
      ringAt = [];
      cycles = 0;
      break;
    case 'close':
      close().catch((error) => fatal(`close: ${error.message}`));
      break;
    default:
      fatal(`unknown message ${JSON.stringify(message)}`);
  }
});

async function start({ channelUrls, httpBase, tokens, talkMs: talk }) {
  const started = now();
  base = httpBase;
  talkMs = talk;
  let next = 0;
  // A bounded number of handshakes (and check-ins) at a time, so the listen backlog never overflows.
  const lane = async () => {
    while (next < channelUrls.length) {
      const index = next++;
      sockets[index] = await open(index, channelUrls[index], tokens[index]);
      await post(`/v1/agent/checkin`, tokens[index], {});
    }
  };
  await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, lane));
  port.postMessage({ type: 'ready', ms: now() - started });
}

function open(index, url, token) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    let ready = false;
    socket.on('message', (data) => {
      // Stamped before anything else, so the figure is arrival, not arrival plus parsing.
      const at = now();
      const frame = JSON.parse(data.toString());
      if (frame.type === 'hello') {
        // The server closes a channel that stays silent for two heartbeats.
        const every = Math.max(1000, Math.floor(frame.heartbeatIntervalMs / 2));
        heartbeats.push(setInterval(() => socket.send('{"type":"ping"}'), every));
        return;
      }
      if (frame.type === 'snapshot' && !ready) {
        ready = true;
        resolve(socket);
        return;
      }
      if (frame.type === 'error') return fatal(`agent ${index}: channel error ${frame.code}: ${frame.message}`);
      if (frame.type === 'notify' && frame.head?.agentCallCode === 'AgentRinging') {
        ringIds.push(frame.data.connId);
        ringAt.push(at);
        autoAnswer(token, frame.data).catch((error) => fatal(`agent ${index}: ${error.message}`));
      }
    });
    socket.once('error', (error) => {
      if (!ready) reject(error);
      else fatal(`socket ${index}: ${error.message}`);
    });
    socket.once('close', (code, reason) => {
      if (!closing) fatal(`socket ${index} closed: ${code} ${reason}`);
    });
  });
}

/** Answer, talk, hang up, ready: what an agent's softphone and dial bar send during one call. */
async function autoAnswer(token, { connId, jobId, acid, aid }) {
  const call = `/v1/agent/calls/${encodeURIComponent(connId)}`;
  await post(`${call}/answer`, token, { jobId, acid, aid });
  await new Promise((resolve) => setTimeout(resolve, talkMs));
  if (closing) return;
  await post(`${call}/hangup`, token, { jobId, acid, aid });
  await post('/v1/agent/ready', token, {});
  cycles += 1;
}

function post(path, token, body) {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      {
        method: 'POST',
        agent: http,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          if (res.statusCode !== undefined && res.statusCode < 300) resolve();
          else reject(new Error(`POST ${path}: ${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 300)}`));
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function close() {
  closing = true;
  for (const timer of heartbeats) clearInterval(timer);
  const closed = [];
  for (const socket of sockets) {
    if (!socket || socket.readyState === WebSocket.CLOSED) continue;
    closed.push(new Promise((resolve) => socket.once('close', resolve)));
    socket.close();
  }
  // A peer that does not finish the closing handshake in time is cut off.
  const timer = setTimeout(() => {
    for (const socket of sockets) socket?.terminate();
  }, 5000);
  await Promise.all(closed);
  clearTimeout(timer);
  http.destroy();
  port.postMessage({ type: 'closed' });
  port.close();
}
