import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources, never against a stale build.
    alias: [
      { find: /^@openhotline\/protocol$/, replacement: src('protocol') },
      { find: /^@openhotline\/server$/, replacement: src('server') },
      { find: /^@openhotline\/sdk$/, replacement: src('sdk') },
      {
        find: /^@openhotline\/sdk\/media$/,
        replacement: fileURLToPath(new URL('./packages/sdk/src/media-session.ts', import.meta.url)),
      },
    ],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'scripts/**/*.test.ts', 'e2e/**/*.test.ts'],
    // The browser tests load the SDK bundle from the server: build it once per run.
    globalSetup: ['./e2e/global-setup.ts'],
    testTimeout: 20_000,
    // One second chance per test: the browser and audio tests measure real time (tones by ear, jitter buffers,
    // announcements) on two cores shared with the server under test. A real fault fails both attempts; a test that
    // needed the second one is reported as retried, so flakiness stays visible.
    retry: 1,
    hookTimeout: 30_000,
    // Two cores: integration tests each start a real server; keep contention bounded.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    pool: 'forks',
  },
});
