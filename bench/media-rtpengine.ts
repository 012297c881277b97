import { execFile, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * rtpengine for the media benchmark's same-run comparison: finds (or, when asked, installs) the daemon, starts a
 * private instance in userspace mode, and drives it over its ng control protocol (bencode over UDP) so it relays
 * plain RTP between the load generator's sockets. Its CPU is read from /proc, thread by thread.
 */

const run = promisify(execFile);

/** Where the daemon is, installing it first when BENCH_RTPENGINE=1; otherwise why it cannot be used. */
export async function findRtpengine(): Promise<{ path: string } | { reason: string }> {
  if (process.env.BENCH_RTPENGINE === '0') return { reason: 'BENCH_RTPENGINE=0 skips it' };
  const found = await which('rtpengine');
  if (found) return { path: found };
  if (process.env.BENCH_RTPENGINE !== '1') {
    return { reason: 'rtpengine is not installed (BENCH_RTPENGINE=1 installs it with bench/setup-rtpengine.sh)' };
  }
  const script = fileURLToPath(new URL('./setup-rtpengine.sh', import.meta.url));
  try {
    await run('sh', [script], { timeout: 600_000 });
  } catch (error) {
    return { reason: `setup-rtpengine.sh failed: ${(error as Error).message.split('\n').slice(0, 3).join(' ')}` };
  }
  const installed = await which('rtpengine');
  return installed ? { path: installed } : { reason: 'setup-rtpengine.sh ran but no rtpengine binary is on PATH' };
}

async function which(name: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('sh', ['-c', `command -v ${name}`]);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- bencode -------------------------------------

export type Bencoded = string | number | readonly Bencoded[] | { readonly [key: string]: Bencoded };

export function bencode(value: Bencoded): Buffer {
  if (typeof value === 'number') return Buffer.from(`i${Math.trunc(value)}e`);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value);
    return Buffer.concat([Buffer.from(`${bytes.length}:`), bytes]);
  }
  if (Array.isArray(value)) return Buffer.concat([Buffer.from('l'), ...value.map(bencode), Buffer.from('e')]);
  const dict = value as { readonly [key: string]: Bencoded };
  // Keys in byte order, as the format requires.
  const keys = Object.keys(dict).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return Buffer.concat([
    Buffer.from('d'),
    ...keys.flatMap((key) => [bencode(key), bencode(dict[key] as Bencoded)]),
    Buffer.from('e'),
  ]);
}

/** Decodes one value at `start`; byte strings come back as UTF-8 strings (the ng protocol's are text). */
export function bdecode(buffer: Buffer, start = 0): { value: Bencoded; end: number } {
  const head = buffer[start];
  if (head === 0x69 /* i */) {
    const end = buffer.indexOf(0x65, start);
    return { value: Number(buffer.toString('latin1', start + 1, end)), end: end + 1 };
  }
  if (head === 0x6c /* l */ || head === 0x64 /* d */) {
    const items: Bencoded[] = [];
    let at = start + 1;
    while (buffer[at] !== 0x65) {
      if (at >= buffer.length) throw new Error('bencode: unterminated list or dictionary');
      const item = bdecode(buffer, at);
      items.push(item.value);
      at = item.end;
    }
    if (head === 0x6c) return { value: items, end: at + 1 };
    const dict: Record<string, Bencoded> = {};
    for (let i = 0; i + 1 < items.length; i += 2) dict[String(items[i])] = items[i + 1] as Bencoded;
    return { value: dict, end: at + 1 };
  }
  const colon = buffer.indexOf(0x3a, start);
  const length = Number(buffer.toString('latin1', start, colon));
  if (colon < 0 || !Number.isInteger(length)) throw new Error(`bencode: bad byte string at ${start}`);
  return { value: buffer.toString('utf8', colon + 1, colon + 1 + length), end: colon + 1 + length };
}

// ---------------------------------------------------------------- the daemon ----------------------------------

export interface Rtpengine {
  readonly pid: number;
  /** Sends one ng command and returns the reply dictionary; throws unless `result` is `ok`. */
  command(message: { readonly [key: string]: Bencoded }): Promise<{ readonly [key: string]: Bencoded }>;
  /** CPU time the daemon used so far, ms (all its threads). */
  cpuMs(): number;
  stop(): Promise<void>;
}

/** Starts a private rtpengine: userspace only (no kernel table), RTP on 127.0.0.1, ng on an ephemeral port. */
export async function startRtpengine(binary: string, ngPort: number, ports: readonly [number, number]) {
  const daemon = spawn(
    binary,
    [
      '--table=-1',
      '--interface=127.0.0.1',
      `--listen-ng=127.0.0.1:${ngPort}`,
      `--port-min=${ports[0]}`,
      `--port-max=${ports[1]}`,
      '--foreground',
      '--log-stderr',
      '--log-level=4',
      // No configuration file: the package's /etc one would add kernel forwarding and other interfaces.
      '--config-file=none',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  daemon.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const client = new NgClient(socket, ngPort);
  const engine: Rtpengine = {
    pid: daemon.pid ?? -1,
    command: (message) => client.command(message),
    cpuMs: () => processCpuMs(daemon.pid ?? -1),
    async stop() {
      socket.close();
      if (daemon.exitCode === null) daemon.kill('SIGTERM');
      const timer = setTimeout(() => daemon.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
  // Ready when it answers a ping; an early exit carries its log as the reason.
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (daemon.exitCode !== null || daemon.signalCode !== null) {
      throw new Error(`rtpengine exited (${daemon.exitCode ?? daemon.signalCode}): ${log.trim()}`);
    }
    try {
      await client.command({ command: 'ping' }, 300);
      return engine;
    } catch (error) {
      if (Date.now() > deadline) {
        await engine.stop();
        throw new Error(`rtpengine did not answer ng ping within 10 s: ${(error as Error).message} ${log.trim()}`);
      }
    }
  }
}

class NgClient {
  private next = 0;
  private readonly waiting = new Map<string, (reply: { readonly [key: string]: Bencoded }) => void>();

  constructor(
    private readonly socket: Socket,
    private readonly port: number,
  ) {
    socket.on('message', (packet) => {
      const space = packet.indexOf(0x20);
      if (space < 0) return;
      const cookie = packet.toString('latin1', 0, space);
      const resolve = this.waiting.get(cookie);
      if (!resolve) return;
      this.waiting.delete(cookie);
      const { value } = bdecode(packet, space + 1);
      resolve(typeof value === 'object' && !Array.isArray(value) ? (value as { [key: string]: Bencoded }) : {});
    });
  }

  command(
    message: { readonly [key: string]: Bencoded },
    timeoutMs = 2000,
  ): Promise<{ readonly [key: string]: Bencoded }> {
    const cookie = `b${process.pid}_${this.next++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(cookie);
        reject(new Error(`no reply to ng ${String(message.command)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(cookie, (reply) => {
        clearTimeout(timer);
        if (reply.result === 'ok' || (message.command === 'ping' && reply.result === 'pong')) resolve(reply);
        else reject(new Error(`ng ${String(message.command)}: ${String(reply['error-reason'] ?? reply.result)}`));
      });
      this.socket.send(Buffer.concat([Buffer.from(`${cookie} `), bencode(message)]), this.port, '127.0.0.1');
    });
  }
}

/**
 * CPU time of a process, ms: the sum of its threads' on-CPU nanoseconds (schedstat), finer than the 10 ms ticks of
 * /proc/<pid>/stat, which is the fallback.
 */
export function processCpuMs(pid: number): number {
  const tasks = `/proc/${pid}/task`;
  if (existsSync(tasks)) {
    let ns = 0;
    let read = 0;
    for (const task of readdirSync(tasks)) {
      try {
        ns += Number(readFileSync(`${tasks}/${task}/schedstat`, 'utf8').split(' ')[0]);
        read++;
      } catch {
        // A thread that ended between the listing and the read.
      }
    }
    if (read > 0) return ns / 1e6;
  }
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name; in clock ticks (100 Hz).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** A plain RTP/AVP PCMU offer or answer for a socket on 127.0.0.1. */
export function plainSdp(port: number, sessionId: number): string {
  return [
    'v=0',
    `o=- ${sessionId} 1 IN IP4 127.0.0.1`,
    's=bench',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 0`,
    'a=rtpmap:0 PCMU/8000',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/** The media port an SDP from rtpengine gives. */
export function sdpAudioPort(sdp: Bencoded | undefined): number {
  const match = typeof sdp === 'string' ? /^m=audio (\d+) /m.exec(sdp) : null;
  if (!match) throw new Error(`no m=audio line in rtpengine's SDP: ${String(sdp).slice(0, 200)}`);
  return Number(match[1]);
}
