import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describeGc, relaunchWithV8Flags, runInChild } from '../packages/server/src/launcher.js';
import type { Benchmark } from './benchmark.js';

/**
 * `npm run bench [name ...]`: runs the benchmarks in turn (or the named ones) and prints their figures with
 * the same-run ratio against their baseline. Benchmarks inform; a missed target is printed, not an exit code,
 * because a noisy machine must not fail a build. A benchmark that breaks does exit non-zero.
 */

/** Add a benchmark here; it is loaded only when it runs, so a subset does not pay for the others' imports. */
const BENCHMARKS: readonly { readonly name: string; load(): Promise<Benchmark> }[] = [
  { name: 'event-channel', load: async () => (await import('./event-channel.js')).eventChannelBenchmark },
  { name: 'acd', load: async () => (await import('./acd.js')).acdBenchmark },
  { name: 'bundle-size', load: async () => (await import('./bundle-size.js')).bundleSizeBenchmark },
  { name: 'media', load: async () => (await import('./media.js')).mediaBenchmark },
];

async function main(argv: readonly string[]): Promise<number> {
  const unknown = argv.filter((name) => !BENCHMARKS.some((b) => b.name === name));
  if (unknown.length > 0) {
    console.error(`Unknown benchmark: ${unknown.join(', ')}. Known: ${BENCHMARKS.map((b) => b.name).join(', ')}.`);
    return 2;
  }
  const selected = argv.length > 0 ? BENCHMARKS.filter((b) => argv.includes(b.name)) : BENCHMARKS;
  const [only] = selected;
  if (process.env[ALONE_ENV] !== '1') {
    console.log(
      `node ${process.version}, ${availableParallelism()} cores, ${process.platform}/${process.arch}, ` +
        `garbage collection ${describeGc(process.env, process.execArgv)}`,
    );
  }
  // Each benchmark in a process of its own: one that leaves a large heap (1,000 agents' channels, say) would
  // otherwise have the next one's latency pay for collecting it.
  if (selected.length > 1) {
    let failed = false;
    for (const entry of selected) failed = (await runAlone(entry.name)) !== 0 || failed;
    return failed ? 1 : 0;
  }
  if (!only) return 0;
  const started = performance.now();
  try {
    const benchmark = await only.load();
    console.log(`\n== ${benchmark.name}: ${benchmark.summary}`);
    const result = await benchmark.run((line) => console.log(`   ${line}`));
    console.log('');
    printTable(result.table);
    for (const note of result.notes) console.log(note);
    for (const v of result.verdicts) {
      console.log(`${v.met ? 'MET   ' : 'MISSED'}  ${v.label}: ${v.value} (target ${v.target})`);
    }
    console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
    return 0;
  } catch (error) {
    console.error(`\n${only.name} failed:`, error);
    return 1;
  }
}

const ALONE_ENV = 'BENCH_ALONE';

/** Runs one benchmark in a child process with this one's flags (a TypeScript loader, the V8 flags) and streams. */
function runAlone(name: string): Promise<number> {
  return runInChild(fileURLToPath(import.meta.url), [name], {
    env: { ...process.env, [ALONE_ENV]: '1' },
    execArgv: process.execArgv,
  }).catch(() => 1);
}

function printTable(rows: readonly (readonly string[])[]): void {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  for (const [r, row] of rows.entries()) {
    // Names left, figures right, as figures read best aligned on their last digit.
    console.log(
      row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  '),
    );
    if (r === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

// The benchmarks measure the server's code under the V8 flags the server runs under (launcher.ts): this process
// relaunches itself with them when it lacks them. Child processes a benchmark forks inherit them.
process.exitCode =
  (await relaunchWithV8Flags(fileURLToPath(import.meta.url), process.argv.slice(2))) ??
  (await main(process.argv.slice(2)));
