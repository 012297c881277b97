import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, loadConfig } from './config.js';

const tempFile = (content: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'openhotline-config-')), 'config.json');
  writeFileSync(path, content);
  return path;
};

const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('loading the configuration', () => {
  it('starts from the documented defaults', () => {
    const config = loadConfig({ env: {} });
    expect(config).toMatchObject({ host: '0.0.0.0', port: 8080, dataDir: './data', tokenTtlSeconds: 900 });
    expect(config.replayBufferSize).toBe(DEFAULT_CONFIG.replayBufferSize);
  });

  it('reads a JSON file, and environment variables win over it', () => {
    const file = tempFile(JSON.stringify({ port: 9000, logLevel: 'debug', corsOrigins: ['https://crm.example.com'] }));
    const config = loadConfig({ file, env: { PORT: '9100', OPENHOTLINE_DATA_DIR: '/var/lib/openhotline' } });
    expect(config).toMatchObject({
      port: 9100,
      logLevel: 'debug',
      dataDir: '/var/lib/openhotline',
      corsOrigins: ['https://crm.example.com'],
    });
  });

  it('parses lists and booleans from the environment', () => {
    const config = loadConfig({
      env: { OPENHOTLINE_CORS_ORIGINS: 'https://a.example, https://b.example', OPENHOTLINE_SEED_DEMO: 'no' },
    });
    expect(config.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.seedDemo).toBe(false);
  });

  it('names the variable and the value when an environment value is wrong', () => {
    expect(problemsOf(() => loadConfig({ env: { PORT: 'eighty' } }))).toEqual([
      'PORT must be an integer (got "eighty")',
    ]);
    expect(problemsOf(() => loadConfig({ env: { OPENHOTLINE_SEED_DEMO: 'maybe' } }))[0]).toContain('true or false');
  });

  it('names the key, its variable and the value when a value is out of range', () => {
    const [problem] = problemsOf(() => loadConfig({ env: { PORT: '70000' } }));
    expect(problem).toContain('port (PORT)');
    expect(problem).toContain('70000');
    expect(problemsOf(() => loadConfig({ env: { OPENHOTLINE_ADMIN_KEY: 'short' } }))[0]).toContain('adminKey');
  });

  it('reports an unreadable file, malformed JSON and unknown keys', () => {
    expect(problemsOf(() => loadConfig({ file: '/nonexistent/openhotline.json' }))[0]).toContain('/nonexistent');
    expect(problemsOf(() => loadConfig({ file: tempFile('{ not json') }))[0]).toContain('config file');
    expect(problemsOf(() => loadConfig({ file: tempFile('[1, 2]') }))[0]).toContain('JSON object');
    expect(problemsOf(() => loadConfig({ file: tempFile('{"prot": 1}') })).join('\n')).toContain('prot');
  });

  it('merges a section of the file into its defaults, key by key', () => {
    // Only the announced address: media stays enabled, as by default.
    const file = tempFile(
      JSON.stringify({ media: { announcedAddress: '203.0.113.7' }, webcall: { maxPerAddress: 5 } }),
    );
    const config = loadConfig({ file, env: {} });
    expect(config.media).toEqual({ enabled: true, announcedAddress: '203.0.113.7' });
    expect(config.webcall).toEqual({ maxPerAddress: 5 });
    // A list is a value, not a section: the file's replaces the default.
    expect(loadConfig({ file: tempFile('{"corsOrigins": ["https://crm.example"]}'), env: {} }).corsOrigins).toEqual([
      'https://crm.example',
    ]);
  });

  it('reads the media settings from the environment over the file', () => {
    const file = tempFile(JSON.stringify({ media: { enabled: true, announcedAddress: '10.0.0.1', codecs: ['pcmu'] } }));
    const env = { OPENHOTLINE_MEDIA_ADDRESS: '198.51.100.2', OPENHOTLINE_MEDIA_PORTS: '40000-40999' };
    expect(loadConfig({ file, env }).media).toEqual({
      enabled: true,
      announcedAddress: '198.51.100.2',
      portRange: [40000, 40999],
      codecs: ['pcmu'],
    });
    expect(loadConfig({ env: { OPENHOTLINE_MEDIA: 'off' } }).media.enabled).toBe(false);
  });

  it('refuses a malformed or backwards media port range, naming its variable', () => {
    expect(problemsOf(() => loadConfig({ env: { OPENHOTLINE_MEDIA_PORTS: '40000' } }))).toEqual([
      'OPENHOTLINE_MEDIA_PORTS must be a port range such as 40000-40999 (got "40000")',
    ]);
    expect(problemsOf(() => loadConfig({ env: { OPENHOTLINE_MEDIA_PORTS: '40000-70000' } }))[0]).toContain(
      'media.portRange.1 (OPENHOTLINE_MEDIA_PORTS)',
    );
    expect(problemsOf(() => loadConfig({ env: { OPENHOTLINE_MEDIA_PORTS: '41000-40000' } }))[0]).toContain(
      'must not be above the last',
    );
    expect(problemsOf(() => loadConfig({ env: { OPENHOTLINE_MEDIA: 'sometimes' } }))[0]).toContain('OPENHOTLINE_MEDIA');
  });

  it('lists every problem at once', () => {
    expect(problemsOf(() => loadConfig({ env: { PORT: 'x', OPENHOTLINE_TOKEN_TTL_SECONDS: 'y' } }))).toHaveLength(2);
  });

  it('takes the media codecs in preference order, and refuses unknown, repeated or no codecs', () => {
    const media = (codecs: unknown) => tempFile(JSON.stringify({ media: { enabled: true, codecs } }));
    expect(loadConfig({ file: media(['pcmu']), env: {} }).media.codecs).toEqual(['pcmu']);
    expect(loadConfig({ file: media(['pcmu', 'opus']), env: {} }).media.codecs).toEqual(['pcmu', 'opus']);
    expect(loadConfig({ env: {} }).media.codecs).toBeUndefined();
    for (const wrong of [['g729'], ['opus', 'opus'], [], 'opus']) {
      expect(problemsOf(() => loadConfig({ file: media(wrong), env: {} })).join('\n')).toContain('media.codecs');
    }
  });
});
