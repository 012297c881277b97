// Builds the SDK with esbuild:
//   dist/index.js          — the headless ESM build (bundled with the protocol's enums; no runtime dependencies)
//   dist/sdk.js            — the full script-tag build (IIFE, minified): the SDK, the dial bar and its renderer
//                            (Preact); sets window.SoftPhoneSDK and window.SoftPhone. Served at /sdk/sdk.js.
//   dist/sdk.headless.js   — the same script-tag build without the dial bar, for pages that never show it
// Types are the TypeScript sources (package.json "types": "./src/index.ts").
// The full build's entry is the dial bar's (packages/dialbar/src/umd.ts): the dial bar imports the SDK, never the
// other way round, so the SDK's build is where the two meet. Only this build script reaches into ../dialbar.
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

/** The full script-tag build: SDK + dial bar + Preact. */
export const UMD = {
  ...COMMON,
  entryPoints: [join(here, '../dialbar/src/umd.ts')],
  format: 'iife',
  minify: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
};

/** The media session (microphone, WebRTC line, ring, devices, call quality) as its own ESM entry. */
export const MEDIA = { ...COMMON, entryPoints: [join(here, 'src/media-session.ts')], format: 'esm', minify: true };

/** The script-tag build without the dial bar (getUIComponent() returns the placeholder). */
export const HEADLESS_UMD = { ...COMMON, entryPoints: [join(here, 'src/umd.ts')], format: 'iife', minify: true };

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
    esbuild.build({ ...HEADLESS_UMD, outfile: join(outdir, 'sdk.headless.js'), sourcemap: true }),
    esbuild.build({
      ...COMMON,
      entryPoints: [join(here, 'src/media-session.ts')],
      format: 'esm',
      outfile: join(outdir, 'media.js'),
      sourcemap: true,
    }),
  ]);
  return outdir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outdir = await build();
  console.log(`@openhotline/sdk built into ${outdir}`);
}
