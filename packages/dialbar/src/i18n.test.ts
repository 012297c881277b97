import { AgentBarStatus, EnumLocale } from '@openhotline/sdk';
import { describe, expect, it } from 'vitest';
import { STATUS_TEXT, TEXTS, translator } from './i18n';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('the two locales of the guide', () => {
  it('have the same texts, none empty, with the same placeholders', () => {
    const zh = TEXTS[EnumLocale['zh-CN']];
    const en = TEXTS[EnumLocale.en];
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort());
    for (const key of Object.keys(zh) as (keyof typeof zh)[]) {
      expect(zh[key].trim(), key).not.toBe('');
      expect(en[key].trim(), key).not.toBe('');
      expect(placeholders(en[key]), key).toEqual(placeholders(zh[key]));
    }
  });

  it('name every agent status in both', () => {
    const statuses = Object.values(AgentBarStatus).filter((v): v is AgentBarStatus => typeof v === 'number');
    for (const locale of [EnumLocale['zh-CN'], EnumLocale.en]) {
      for (const status of statuses) expect(STATUS_TEXT[locale][status], `${locale} ${status}`).toBeTruthy();
    }
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    expect(translator(EnumLocale.en)('acwCountdown', { n: 3 })).toBe('Ready again in 3 s');
    expect(translator(EnumLocale['zh-CN'])('acwCountdown', { n: 3 })).toBe('3 秒后自动空闲');
    expect(translator(EnumLocale.en)('acwCountdown')).toBe('Ready again in {n} s');
  });
});
