import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { COMMON, CORE, UMD } from '../packages/sdk/build.mjs';
import type { Benchmark, BenchmarkResult } from './benchmark.js';

/**
 * What the browser downloads: our SDK's bundles next to two well-known browser softphone libraries, installed as
 * dev dependencies and measured the same way in the same run — bundled by esbuild for the browser (ES2020),
 * minified, then gzip level 9. Each package is bundled whole (`import * as`), as an application that loads it
 * with a script tag gets it.
 */

const here = dirname(fileURLToPath(import.meta.url));
const BUDGET_CORE_GZIP = 15 * 1024;

interface Measured {
  readonly name: string;
  readonly min: number;
  readonly gzip: number;
}

async function measure(name: string, options: esbuild.BuildOptions): Promise<Measured> {
  const result = await esbuild.build({ ...options, write: false, outdir: join(here, '.out'), logLevel: 'silent' });
  const code = result.outputFiles?.find((f) => f.path.endsWith('.js'));
  if (!code) throw new Error(`esbuild produced no JavaScript for ${name}`);
  return { name, min: code.contents.length, gzip: gzipSync(code.contents, { level: 9 }).length };
}

/** A third-party package bundled whole, exactly like our script-tag build (IIFE, minified, browser, ES2020). */
function wholePackage(specifier: string): esbuild.BuildOptions {
  return {
    ...COMMON,
    absWorkingDir: here,
    stdin: {
      contents: `import * as library from ${JSON.stringify(specifier)}; globalThis.__library = library;`,
      resolveDir: here,
      loader: 'js',
    },
    format: 'iife',
    minify: true,
    // Node's built-ins some of them name in code paths a browser never takes.
    external: ['crypto', 'fs', 'path', 'os', 'util'],
  };
}

function versionOf(name: string): string {
  // Read from node_modules: not every package exports its package.json.
  const file = join(here, '..', 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

export const bundleSizeBenchmark: Benchmark = {
  name: 'bundle-size',
  summary: 'SDK bundle sizes (min and gzip) against @twilio/voice-sdk and jssip, same build, same run',
  async run(progress): Promise<BenchmarkResult> {
    progress('bundling with esbuild (browser, es2020, minify) and gzip -9');
    const twilio = `@twilio/voice-sdk ${versionOf('@twilio/voice-sdk')}`;
    const jssip = `jssip ${versionOf('jssip')}`;
    const [core, umd, theirs1, theirs2] = await Promise.all([
      measure('OpenHotline SDK, headless core (ESM)', CORE),
      measure('OpenHotline SDK, full UMD (sdk.js)', UMD),
      measure(twilio, wholePackage('@twilio/voice-sdk')),
      measure(jssip, wholePackage('jssip')),
    ]);
    const rows = [core, umd, theirs1, theirs2];
    return {
      table: [
        ['bundle', 'minified', 'gzip', 'gzip vs twilio', 'gzip vs jssip'],
        ...rows.map((m) => [m.name, kb(m.min), kb(m.gzip), ratio(m.gzip, theirs1.gzip), ratio(m.gzip, theirs2.gzip)]),
      ],
      notes: [
        `ratios are ours ÷ theirs (below 1× is smaller); minified: core ${ratio(core.min, theirs1.min)} of twilio, ${ratio(core.min, theirs2.min)} of jssip; UMD ${ratio(umd.min, theirs1.min)} of twilio, ${ratio(umd.min, theirs2.min)} of jssip`,
        'the headless core has no media stack yet; twilio and jssip include theirs (WebRTC, SIP)',
      ],
      verdicts: [
        {
          label: 'headless core, gzip',
          value: kb(core.gzip),
          target: `≤ ${kb(BUDGET_CORE_GZIP)} (also enforced by packages/sdk/src/bundle.test.ts)`,
          met: core.gzip <= BUDGET_CORE_GZIP,
        },
        {
          label: 'full UMD with the dial bar vs @twilio/voice-sdk, gzip',
          value: kb(umd.gzip),
          target: `< ${kb(theirs1.gzip)} (twilio's headless SDK, same run)`,
          met: umd.gzip < theirs1.gzip,
        },
      ],
    };
  },
};
