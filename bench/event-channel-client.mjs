/**
 * The client side of the event-channel benchmark, run in a worker thread so that receiving never shares the
 * server's event loop (2 cores: one for the server, one for this). Plain JavaScript: a worker needs no loader.
 *
 * It keeps sets of sockets (one per agent), and for each repetition stamps the arrival of every `notify` frame
 * by (agent, seq) with `performance.timeOrigin + performance.now()`, a clock the server thread shares.
 *
 * Messages from the main thread:
 *   { type: 'connect', set, urls, readyOn: 'open' | 'snapshot' }  → { type: 'connected', set, ms }
 *   { type: 'rep', set, rounds, baseSeq }                           → { type: 'rep-ready', set }, then
 *                                                                      { type: 'round', set, round } per round,
 *                                                                      { type: 'rep-done', set, recv, cpuNs } at the end
 *                                                                      (cpuNs: this thread's CPU time in the repetition,
 *                                                                      0 where the system does not tell)
 *   { type: 'close' }                                               → { type: 'closed' }
 * and { type: 'fatal', message } whenever something goes wrong.
 */
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import WebSocket from 'ws';

const CONNECT_CONCURRENCY = 50;
const now = () => performance.timeOrigin + performance.now();
/** This thread's CPU time in ns (Linux), or 0. */
const threadCpuNs = () => {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return 0;
  }
};

/** @type {Map<string, { sockets: WebSocket[], rep: null | { rounds: number, baseSeq: number, recv: Float64Array, perRound: Uint32Array, cpuAtStart: number } }>} */
const sets = new Map();
let closing = false;

const port = parentPort;
if (!port) throw new Error('event-channel-client.mjs runs as a worker thread');

const fatal = (message) => port.postMessage({ type: 'fatal', message });

port.on('message', (message) => {
  switch (message.type) {
    case 'connect':
      connect(message.set, message.urls, message.readyOn).catch((error) => fatal(`connect: ${error.message}`));
      break;
    case 'rep': {
      const set = sets.get(message.set);
      const agents = set.sockets.length;
      set.rep = {
        rounds: message.rounds,
        baseSeq: message.baseSeq,
        recv: new Float64Array(agents * message.rounds),
        perRound: new Uint32Array(message.rounds),
        cpuAtStart: threadCpuNs(),
      };
      port.postMessage({ type: 'rep-ready', set: message.set });
      break;
    }
    case 'close':
      close().catch((error) => fatal(`close: ${error.message}`));
      break;
    default:
      fatal(`unknown message ${JSON.stringify(message)}`);
  }
});

async function connect(name, urls, readyOn) {
  const started = now();
  const set = { sockets: new Array(urls.length), rep: null };
  sets.set(name, set);
  let next = 0;
  // A bounded number of handshakes at a time: a thousand at once would overflow the listen backlog.
  const lane = async () => {
    while (next < urls.length) {
      const index = next++;
      set.sockets[index] = await open(name, set, index, urls[index], readyOn);
    }
  };
  await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, lane));
  port.postMessage({ type: 'connected', set: name, ms: now() - started });
}

function open(name, set, index, url, readyOn) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    let ready = false;
    const becomeReady = () => {
      ready = true;
      resolve(socket);
    };
    socket.on('message', (data) => {
      // Stamped before anything else, so the figure is arrival, not arrival plus parsing.
      const at = now();
      const frame = JSON.parse(data.toString());
      if (!ready) {
        if (readyOn === 'snapshot' && frame.type === 'snapshot') becomeReady();
        return;
      }
      if (frame.type === 'notify') received(name, set, index, frame.seq, at);
    });
    socket.once('open', () => {
      if (readyOn === 'open') becomeReady();
    });
    socket.once('error', (error) => {
      if (!ready) reject(error);
      else fatal(`${name} socket ${index}: ${error.message}`);
    });
    socket.once('close', (code, reason) => {
      if (!closing) fatal(`${name} socket ${index} closed: ${code} ${reason}`);
    });
  });
}

function received(name, set, agent, seq, at) {
  const rep = set.rep;
  if (!rep) return fatal(`${name}: a notify outside a repetition (agent ${agent}, seq ${seq})`);
  const round = seq - rep.baseSeq - 1;
  if (round < 0 || round >= rep.rounds) return fatal(`${name}: seq ${seq} outside the repetition (agent ${agent})`);
  const slot = agent * rep.rounds + round;
  if (rep.recv[slot] !== 0) return fatal(`${name}: seq ${seq} twice (agent ${agent})`);
  rep.recv[slot] = at;
  rep.perRound[round] += 1;
  if (rep.perRound[round] === set.sockets.length) {
    port.postMessage({ type: 'round', set: name, round });
    if (round === rep.rounds - 1) {
      set.rep = null;
      const cpuNs = threadCpuNs() - rep.cpuAtStart;
      port.postMessage({ type: 'rep-done', set: name, recv: rep.recv, cpuNs }, [rep.recv.buffer]);
    }
  }
}

async function close() {
  closing = true;
  const closed = [];
  for (const set of sets.values()) {
    for (const socket of set.sockets) {
      if (!socket || socket.readyState === WebSocket.CLOSED) continue;
      closed.push(new Promise((resolve) => socket.once('close', resolve)));
      socket.close();
    }
  }
  // A peer that does not finish the closing handshake in time is cut off.
  const timer = setTimeout(() => {
    for (const set of sets.values()) for (const socket of set.sockets) socket?.terminate();
  }, 5000);
  await Promise.all(closed);
  clearTimeout(timer);
  port.postMessage({ type: 'closed' });
  port.close();
}
