// Builds the SDK with esbuild:
//   dist/index.js  — the ESM build (bundled with the protocol's enums; no runtime dependencies), with a source map
//   dist/sdk.js    — the script-tag build (IIFE, minified) that sets window.SoftPhoneSDK and window.SoftPhone
// Types are the TypeScript sources (package.json "types": "./src/index.ts").
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

/** Options shared by every build: browser code, ES2020, the protocol taken from its TypeScript source. */
export const COMMON = {
  absWorkingDir: here,
  bundle: true,
  platform: 'browser',
  target: 'es2020',
  conditions: ['source'],
  legalComments: 'none',
  logLevel: 'warning',
};

/** The headless core: the ESM entry with everything public, minified — what the size budget measures. */
export const CORE = { ...COMMON, entryPoints: [join(here, 'src/index.ts')], format: 'esm', minify: true };

/** The full script-tag build. */
export const UMD = { ...COMMON, entryPoints: [join(here, 'src/umd.ts')], format: 'iife', minify: true };

export async function build(outdir = join(here, 'dist')) {
  mkdirSync(outdir, { recursive: true });
  await Promise.all([
    esbuild.build({
      ...COMMON,
      entryPoints: [join(here, 'src/index.ts')],
      format: 'esm',
      outfile: join(outdir, 'index.js'),
      sourcemap: true,
    }),
    esbuild.build({ ...UMD, outfile: join(outdir, 'sdk.js'), sourcemap: true }),
  ]);
  return outdir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outdir = await build();
  console.log(`@openhotline/sdk built into ${outdir}`);
}
