#!/usr/bin/env node
// Runs the compiled CLI (npm run build first); the logic lives in src/cli/openhotline.ts so tests run it in-process.
import { runCli } from '../dist/cli/openhotline.js';

const code = await runCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
});
process.exitCode = code;
