import { describe, expect, it } from 'vitest';
import { clampPoint, keyStep, loadPoint, POSITION_KEY, savePoint } from './position';

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => void data.set(k, v), data };
}

describe('the floating bar’s position', () => {
  it('is remembered and read back', () => {
    const storage = memoryStorage();
    savePoint(storage, { left: 120, top: 80 });
    expect(JSON.parse(storage.data.get(POSITION_KEY) ?? '')).toEqual({ left: 120, top: 80 });
    expect(loadPoint(storage)).toEqual({ left: 120, top: 80 });
  });

  it('ignores what it cannot read, and storage that throws', () => {
    expect(loadPoint(memoryStorage({ [POSITION_KEY]: '{"left":"x"}' }))).toBeUndefined();
    expect(loadPoint(memoryStorage({ [POSITION_KEY]: 'not json' }))).toBeUndefined();
    const blocked = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('SecurityError');
      },
    };
    expect(loadPoint(blocked)).toBeUndefined();
    expect(() => savePoint(blocked, { left: 1, top: 1 })).not.toThrow();
  });

  it('stays inside a window that got smaller', () => {
    const size = { width: 340, height: 200 };
    expect(clampPoint({ left: 1500, top: 900 }, size, { width: 1024, height: 768 })).toEqual({ left: 676, top: 560 });
    expect(clampPoint({ left: -40, top: -10 }, size, { width: 1024, height: 768 })).toEqual({ left: 8, top: 8 });
  });

  it('moves 10 px per arrow key, 50 with Shift, and ignores other keys', () => {
    expect(keyStep('ArrowLeft', false)).toEqual({ left: -10, top: 0 });
    expect(keyStep('ArrowDown', true)).toEqual({ left: 0, top: 50 });
    expect(keyStep('Enter', false)).toBeUndefined();
  });
});
