import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  GC_ENV,
  gcModeFrom,
  LauncherError,
  missingFlags,
  RELAUNCHED_ENV,
  relaunchWithV8Flags,
  v8FlagsFor,
} from './launcher.js';

const dir = mkdtempSync(join(tmpdir(), 'openhotline-launcher-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A child entry that reports how it was started into `out`, then behaves as `then` says. */
function entry(name: string, then: string): string {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(
    file,
    `import { writeFileSync } from 'node:fs';
const [out] = process.argv.slice(2);
const report = (extra) => writeFileSync(out, JSON.stringify({ execArgv: process.execArgv, argv: process.argv.slice(2), relaunched: process.env.${RELAUNCHED_ENV}, ...extra }));
report({ state: 'ready' });
${then}
`,
  );
  return file;
}

const readReport = (file: string) => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as {
      execArgv: string[];
      argv: string[];
      relaunched?: string;
      state: string;
    };
  } catch {
    return undefined;
  }
};

async function until<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the collector mode', () => {
  it('is auto unless OPENHOTLINE_GC says single or parallel', () => {
    expect(gcModeFrom({})).toBe('auto');
    expect(gcModeFrom({ [GC_ENV]: '' })).toBe('auto');
    expect(gcModeFrom({ [GC_ENV]: ' single ' })).toBe('single');
    expect(gcModeFrom({ [GC_ENV]: 'parallel' })).toBe('parallel');
  });

  it('rejects an unknown value with the variable and the choices in the message', () => {
    expect(() => gcModeFrom({ [GC_ENV]: 'fast' })).toThrow(LauncherError);
    expect(() => gcModeFrom({ [GC_ENV]: 'fast' })).toThrow(
      /OPENHOTLINE_GC must be one of auto, single, parallel; got "fast"/,
    );
  });

  it('is single-threaded on two cores or fewer when auto, and as chosen otherwise', () => {
    expect(v8FlagsFor('auto', 1)).toEqual(['--single-threaded-gc']);
    expect(v8FlagsFor('auto', 2)).toEqual(['--single-threaded-gc']);
    expect(v8FlagsFor('auto', 3)).toEqual([]);
    expect(v8FlagsFor('single', 16)).toEqual(['--single-threaded-gc']);
    expect(v8FlagsFor('parallel', 2)).toEqual([]);
  });

  it('never adds a flag the operator set either way', () => {
    const wanted = ['--single-threaded-gc'];
    expect(missingFlags([], wanted)).toEqual(wanted);
    expect(missingFlags(['--import', 'tsx', '--max-old-space-size=512'], wanted)).toEqual(wanted);
    expect(missingFlags(['--single-threaded-gc'], wanted)).toEqual([]);
    expect(missingFlags(['--no-single-threaded-gc'], wanted)).toEqual([]);
    expect(missingFlags(['--single_threaded_gc'], wanted)).toEqual([]);
  });
});

describe('the relaunch', () => {
  it('runs the entry in a child with the flag, its arguments and the marker, and returns its exit code', async () => {
    const out = join(dir, 'exit.json');
    const file = entry('exit', 'process.exit(7);');
    const code = await relaunchWithV8Flags(file, [out, '--config', 'x.json'], {
      env: { [GC_ENV]: 'single' },
      execArgv: [],
    });
    expect(code).toBe(7);
    const report = readReport(out);
    expect(report?.execArgv).toEqual(['--single-threaded-gc']);
    expect(report?.argv).toEqual([out, '--config', 'x.json']);
    expect(report?.relaunched).toBe('1');
  });

  it('keeps the parent’s own flags for the child (a TypeScript loader, say)', async () => {
    const out = join(dir, 'flags.json');
    const code = await relaunchWithV8Flags(entry('flags', ''), [out], {
      env: {},
      execArgv: ['--max-old-space-size=256'],
      cores: 2,
    });
    expect(code).toBe(0);
    expect(readReport(out)?.execArgv).toEqual(['--max-old-space-size=256', '--single-threaded-gc']);
  });

  it('does nothing when the process has its flags, needs none, or is already the relaunched child', async () => {
    const file = entry('never', 'process.exit(9);');
    expect(
      await relaunchWithV8Flags(file, [], { env: {}, execArgv: ['--single-threaded-gc'], cores: 2 }),
    ).toBeUndefined();
    expect(await relaunchWithV8Flags(file, [], { env: {}, execArgv: [], cores: 8 })).toBeUndefined();
    expect(
      await relaunchWithV8Flags(file, [], { env: { [GC_ENV]: 'parallel' }, execArgv: [], cores: 2 }),
    ).toBeUndefined();
    expect(
      await relaunchWithV8Flags(file, [], { env: { [GC_ENV]: 'single', [RELAUNCHED_ENV]: '1' }, execArgv: [] }),
    ).toBeUndefined();
  });

  it('rejects a bad OPENHOTLINE_GC before starting anything', async () => {
    await expect(relaunchWithV8Flags(entry('bad', ''), [], { env: { [GC_ENV]: 'x' }, execArgv: [] })).rejects.toThrow(
      LauncherError,
    );
  });

  it('passes SIGTERM on to the child, which shuts down in its own way', async () => {
    const out = join(dir, 'graceful.json');
    const file = entry(
      'graceful',
      `process.on('SIGTERM', () => { report({ state: 'SIGTERM' }); process.exit(0); });
setInterval(() => {}, 1000);`,
    );
    const signals = new EventEmitter();
    const running = relaunchWithV8Flags(file, [out], { env: { [GC_ENV]: 'single' }, execArgv: [], signals });
    await until(() => readReport(out));
    expect(signals.listenerCount('SIGTERM')).toBe(1);
    signals.emit('SIGTERM');
    expect(await running).toBe(0);
    expect(readReport(out)?.state).toBe('SIGTERM');
    // Once the child is gone, the parent's signals are its own again.
    expect(signals.listenerCount('SIGTERM')).toBe(0);
    expect(signals.listenerCount('SIGINT')).toBe(0);
  });

  it('reports a child ended by a signal as 128 + its number, as a shell does', async () => {
    const out = join(dir, 'killed.json');
    const signals = new EventEmitter();
    const running = relaunchWithV8Flags(entry('killed', 'setInterval(() => {}, 1000);'), [out], {
      env: { [GC_ENV]: 'single' },
      execArgv: [],
      signals,
    });
    await until(() => readReport(out));
    signals.emit('SIGINT');
    expect(await running).toBe(130);
  });
});

describe('the server started through its entry point', () => {
  const start = fileURLToPath(new URL('./start.ts', import.meta.url));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  /** `node start.ts` (TypeScript through tsx, as the tests run the sources) on a fresh data directory. */
  function launch(gc: string) {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', start], {
      env: {
        ...process.env,
        [GC_ENV]: gc,
        [RELAUNCHED_ENV]: '',
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'silent',
        OPENHOTLINE_DATA_DIR: mkdtempSync(join(dir, 'data-')),
        OPENHOTLINE_MEDIA: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, exited, output: () => ({ stdout, stderr }) };
  }

  /** The pids of a process's children, from /proc (Linux). */
  const childrenOf = (pid: number) =>
    readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);

  it('runs in a child with single-threaded collection, says so, and stops cleanly on SIGTERM, even twice', async () => {
    const server = launch('single');
    const banner = await until(
      () => (server.output().stdout.includes('runtime:') ? server.output().stdout : undefined),
      60_000,
    );
    expect(banner).toMatch(
      /runtime: {4}Node\.js v\d+\.\d+\.\d+, garbage collection single-threaded \(OPENHOTLINE_GC=single, \d+ cores\)/,
    );
    const pid = server.child.pid ?? 0;
    const [serverPid] = childrenOf(pid);
    expect(serverPid).toBeGreaterThan(0);
    expect(readFileSync(`/proc/${serverPid}/cmdline`, 'utf8').split('\0')).toContain('--single-threaded-gc');
    // As a terminal's Ctrl-C does, the signal reaches both; the server gets it twice and still shuts down in order.
    process.kill(serverPid ?? 0, 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 5));
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(() => readFileSync(`/proc/${serverPid}/cmdline`)).toThrow();
  }, 90_000);

  it('runs in the same process when V8’s own collector is chosen', async () => {
    const server = launch('parallel');
    const banner = await until(
      () => (server.output().stdout.includes('runtime:') ? server.output().stdout : undefined),
      60_000,
    );
    expect(banner).toContain("garbage collection V8's parallel and concurrent (OPENHOTLINE_GC=parallel");
    expect(childrenOf(server.child.pid ?? 0)).toEqual([]);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 90_000);

  it('refuses a bad OPENHOTLINE_GC with exit code 2 and a message naming it', async () => {
    const server = launch('sometimes');
    expect(await server.exited).toBe(2);
    expect(server.output().stderr).toContain(
      'openhotline: OPENHOTLINE_GC must be one of auto, single, parallel; got "sometimes"',
    );
  }, 60_000);
});
