import { spawn } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { availableParallelism, constants } from 'node:os';

/**
 * The V8 flags the server's process runs under, and the relaunch that applies them.
 *
 * Why a relaunch: V8 reads its garbage collector's flags once, at start. Setting `--single-threaded-gc` from
 * inside a running process (`v8.setFlagsFromString`) aborts it at the next collection, and NODE_OPTIONS refuses
 * the flag. So `npm start` and `openhotline start` begin in a small parent process that picks the flags, starts
 * the server as its child with them, passes signals on and exits with the child's exit code.
 *
 * Why single-threaded collection on small machines: by default V8 runs four helper threads per process for its
 * parallel and concurrent collector, next to the main thread that does the work. On two cores those helpers
 * compete with the main thread for the CPU, and a main thread that waits in a collection for a helper that is not
 * running stalls every call's audio. Measured with the media benchmark at 100 calls on two cores (docs/media.md),
 * single-threaded collection took the relay's added latency at p99 from +3.8 to +17.3 ms down to +1.6 to +4.3 ms
 * (alternating runs, same CPU per call). Above two cores the helpers should find cores of their own (not measured
 * here): V8's default stays.
 */

/** `auto` (the default): single-threaded on two cores or fewer, V8's own collector above. */
export type GcMode = 'auto' | 'single' | 'parallel';

/** The environment variable that chooses the collector. It is read before the server starts, so it is not a key of the configuration file. */
export const GC_ENV = 'OPENHOTLINE_GC';
/** Set in the child's environment, so a server that somehow still lacks its flags never relaunches again. */
export const RELAUNCHED_ENV = 'OPENHOTLINE_RELAUNCHED';

const SINGLE_THREADED_GC = '--single-threaded-gc';
const GC_MODES: readonly GcMode[] = ['auto', 'single', 'parallel'];
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export class LauncherError extends Error {
  override readonly name = 'LauncherError';
}

/** The collector chosen by the environment; an unknown value is an error that names the variable and the choices. */
export function gcModeFrom(env: Readonly<Record<string, string | undefined>>): GcMode {
  const value = env[GC_ENV]?.trim();
  if (value === undefined || value === '') return 'auto';
  if ((GC_MODES as readonly string[]).includes(value)) return value as GcMode;
  throw new LauncherError(`${GC_ENV} must be one of ${GC_MODES.join(', ')}; got ${JSON.stringify(value)}`);
}

/** The V8 flags for a collector mode on a machine with `cores` cores. */
export function v8FlagsFor(mode: GcMode, cores: number): string[] {
  const single = mode === 'single' || (mode === 'auto' && cores <= 2);
  return single ? [SINGLE_THREADED_GC] : [];
}

/**
 * The flags of `wanted` the process was not started with. A flag the operator set either way on the command line
 * (`--single-threaded-gc` or `--no-single-threaded-gc`) is theirs: it is never added over.
 */
export function missingFlags(execArgv: readonly string[], wanted: readonly string[]): string[] {
  const named = (flag: string) =>
    flag
      .replace(/^--(no-)?/, '')
      .replace(/=.*$/, '')
      .replaceAll('_', '-');
  const present = new Set(execArgv.filter((arg) => arg.startsWith('--')).map(named));
  return wanted.filter((flag) => !present.has(named(flag)));
}

/** How the process's collector was chosen, for the start banner: "single-threaded (OPENHOTLINE_GC=auto, 2 cores)". */
export function describeGc(env: Readonly<Record<string, string | undefined>>, execArgv: readonly string[]): string {
  const single = execArgv.includes(SINGLE_THREADED_GC);
  let mode: string;
  try {
    mode = gcModeFrom(env);
  } catch {
    mode = 'invalid';
  }
  return `${single ? 'single-threaded' : "V8's parallel and concurrent"} (${GC_ENV}=${mode}, ${availableParallelism()} cores)`;
}

export interface RelaunchOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly execArgv?: readonly string[];
  readonly cores?: number;
  /** Where SIGINT, SIGTERM and SIGHUP come from, to be passed on to the child: the process itself by default. */
  readonly signals?: EventEmitter;
}

/**
 * Runs `entry` with `argv` in a child process with the V8 flags this machine needs, when this process lacks
 * them, and resolves with the child's exit code (see `runInChild`). Resolves `undefined` when this process already
 * has what it needs: the caller then runs the entry itself.
 */
export async function relaunchWithV8Flags(
  entry: string,
  argv: readonly string[],
  options: RelaunchOptions = {},
): Promise<number | undefined> {
  const env = options.env ?? process.env;
  const execArgv = options.execArgv ?? process.execArgv;
  if (env[RELAUNCHED_ENV] === '1') return undefined;
  const missing = missingFlags(execArgv, v8FlagsFor(gcModeFrom(env), options.cores ?? availableParallelism()));
  if (missing.length === 0) return undefined;
  return runInChild(entry, argv, {
    env: { ...env, [RELAUNCHED_ENV]: '1' },
    execArgv: [...execArgv, ...missing],
    ...(options.signals ? { signals: options.signals } : {}),
  });
}

export interface ChildOptions {
  readonly env: NodeJS.ProcessEnv;
  /** The child's Node flags; this process's own (a TypeScript loader, say) unless the caller adds to them. */
  readonly execArgv: readonly string[];
  /** Where SIGINT, SIGTERM and SIGHUP come from, to be passed on to the child: the process itself by default. */
  readonly signals?: EventEmitter;
}

/**
 * Runs `entry` with `argv` in a child Node process that inherits the standard streams, passing this process's
 * SIGINT, SIGTERM and SIGHUP on to it, and resolves with its exit code (128 + the signal's number when a signal
 * ended it, as a shell reports it).
 */
export async function runInChild(entry: string, argv: readonly string[], options: ChildOptions): Promise<number> {
  const signals = options.signals ?? process;
  const child = spawn(process.execPath, [...options.execArgv, entry, ...argv], { stdio: 'inherit', env: options.env });
  // A terminal's Ctrl-C reaches the child as well (same process group); the server ignores a repeated signal
  // while it shuts down, so passing it on again does no harm, and a `kill <parent>` still reaches the server.
  const forward = (signal: NodeJS.Signals) => () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const forwarders = FORWARDED_SIGNALS.map((signal) => [signal, forward(signal)] as const);
  for (const [signal, listener] of forwarders) signals.on(signal, listener);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', (error) => reject(new LauncherError(`could not start ${entry}: ${error.message}`)));
      child.once('exit', (code, signal) => {
        resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
      });
    });
  } finally {
    for (const [signal, listener] of forwarders) signals.off(signal, listener);
  }
}
