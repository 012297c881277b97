import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';
import { COMMON, CORE, HEADLESS_UMD, UMD } from '../build.mjs';

// The packaging promises of the issue, checked on real esbuild output (built in memory, never a stale dist/).

const BUDGET_BYTES = 15 * 1024;

async function bundle(options: esbuild.BuildOptions): Promise<string> {
  const result = await esbuild.build({ ...options, write: false, outdir: '/virtual' });
  const file = result.outputFiles?.find((f) => f.path.endsWith('.js'));
  if (!file) throw new Error('esbuild produced no JavaScript');
  return file.text;
}

const gzip = (text: string) => gzipSync(Buffer.from(text), { level: 9 }).length;

describe('the size budget', () => {
  it('keeps the headless core (minified ESM, every export) within 15 KB gzip', async () => {
    const size = gzip(await bundle(CORE));
    expect(size).toBeLessThanOrEqual(BUDGET_BYTES);
  });
});

describe('the ESM build', () => {
  it('is tree-shakable: importing the enums does not bring the softphone along', async () => {
    const code = await bundle({
      ...COMMON,
      stdin: {
        contents:
          "import { AgentBarStatus, EnumLocale } from './index'; console.log(AgentBarStatus.AgentReady, EnumLocale.en);",
        resolveDir: join(__dirname),
        loader: 'ts',
      },
      format: 'esm',
      minify: true,
    });
    expect(code).not.toMatch(/setConfig|ReconnectingSocket|takeWebSocketNotify/);
    expect(gzip(code)).toBeLessThan(1024);
  });

  it('leaves the dial bar and its renderer out (they are only in the script-tag build)', async () => {
    const code = await bundle(CORE);
    expect(code).not.toMatch(/ohd-root|openhotline-dialbar-style|__preactattr_|__H/);
  });

  it('uses no Node globals and pulls in no schema library', async () => {
    const code = await bundle(CORE);
    expect(code).not.toMatch(/\bprocess\.|\bBuffer\b|\brequire\(|__dirname|\bglobal\./);
    expect(code).not.toMatch(/typebox|TypeBox/);
  });

  it('has no global side effects on import', async () => {
    const code = await bundle({ ...CORE, format: 'iife', globalName: undefined });
    const sandbox: Record<string, unknown> = {};
    runInNewContext(code, sandbox);
    expect(Object.keys(sandbox)).toEqual([]);
  });
});

describe('the script-tag build', () => {
  it('sets window.SoftPhoneSDK and window.SoftPhone to one object with the guide names', async () => {
    const code = await bundle(UMD);
    const window: Record<string, unknown> = {};
    runInNewContext(code, window);
    const sdk = window.SoftPhoneSDK as Record<string, unknown>;
    expect(sdk).toBeDefined();
    expect(window.SoftPhone).toBe(sdk);
    for (const name of ['SoftPhone', 'APIs', 'EnumEventName', 'EnumLocale', 'AgentBarStatus', 'EnumWSEventType']) {
      expect(sdk[name], name).toBeDefined();
    }
    const { AgentBarStatus, EnumLocale } = sdk as { AgentBarStatus: Record<string, number>; EnumLocale: object };
    expect(AgentBarStatus.AgentCallConference).toBe(19);
    expect(EnumLocale).toEqual({ en: 'en', 'zh-CN': 'zh-CN' });
  });

  it('contains the dial bar: getUIComponent() returns it, ready for APIs.renderComponent, without touching the DOM at load', async () => {
    const code = await bundle(UMD);
    const window: Record<string, unknown> = {};
    runInNewContext(code, window);
    const { SoftPhone } = window.SoftPhoneSDK as {
      SoftPhone: {
        getInstance(): { getUIComponent(): { isPlaceholder: boolean; displayName: string; mount: unknown } };
      };
    };
    const component = SoftPhone.getInstance().getUIComponent();
    expect(component.isPlaceholder).toBe(false);
    expect(component.displayName).toBe('SoftPhoneUI');
    expect(typeof component.mount).toBe('function');
  });

  it('comes without the dial bar as sdk.headless.js, where getUIComponent() is the placeholder', async () => {
    const code = await bundle(HEADLESS_UMD);
    expect(code).not.toMatch(/ohd-root/);
    const window: Record<string, unknown> = {};
    runInNewContext(code, window);
    const { SoftPhone } = window.SoftPhoneSDK as {
      SoftPhone: { getInstance(): { getUIComponent(): { isPlaceholder: boolean } } };
    };
    expect(SoftPhone.getInstance().getUIComponent().isPlaceholder).toBe(true);
  });

  it('keeps the first copy when the script is loaded twice, so the page has one softphone', async () => {
    const code = await bundle(UMD);
    const window: Record<string, unknown> = {};
    runInNewContext(code, window);
    const first = window.SoftPhoneSDK;
    runInNewContext(code, window);
    expect(window.SoftPhoneSDK).toBe(first);
    expect(window.SoftPhone).toBe(first);
  });
});
