import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APIs } from './apis';
import { CONFIG_KEYS } from './config';
import { SDK_ERRORS } from './errors';
import { EnumEventName } from './index';

// docs/sdk.md is the reference: everything public must be in it.
const doc = readFileSync(join(__dirname, '../../../docs/sdk.md'), 'utf8');

describe('the SDK guide in docs/sdk.md', () => {
  it.each(CONFIG_KEYS)('documents the option %s', (key) => {
    expect(doc).toContain(`| \`${key}\` |`);
  });
  it.each(Object.values(EnumEventName))('documents the event %s', (name) => {
    expect(doc).toContain(`| \`${name}\` |`);
  });
  it.each(Object.keys(APIs))('documents the API %s', (name) => {
    expect(doc).toMatch(new RegExp(`\`${name}\\(`));
  });
  it.each(Object.keys(SDK_ERRORS))('documents the error code %s', (code) => {
    expect(doc).toContain(`\`${code}\``);
  });
});
