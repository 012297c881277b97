import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATED_DOCS } from './docs/render.js';

/**
 * Writes the generated docs (`npm run docs:gen`). Commit the result: `scripts/docs/docs.test.ts` fails when a
 * committed file differs from what the renderers produce now.
 */

const root = fileURLToPath(new URL('../', import.meta.url));

for (const { path, render } of GENERATED_DOCS) {
  const file = `${root}${path}`;
  const text = render();
  let current: string | null = null;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // Not generated yet.
  }
  if (current === text) {
    console.log(`${path}: up to date`);
    continue;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  console.log(`${path}: written`);
}
