import type { AudioDevices } from '@openhotline/sdk';

/**
 * The agent's microphone and speaker, remembered per browser (localStorage) so a headset chosen once is used again
 * at the next check-in. Device ids are per browser profile and origin, which is exactly the scope of localStorage.
 */

export const DEVICE_KEYS = {
  input: 'openhotline.dialbar.audioInput',
  output: 'openhotline.dialbar.audioOutput',
} as const;

export type DeviceKind = keyof typeof DEVICE_KEYS;

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** The page's localStorage, or undefined where it is off limits (a sandboxed frame, storage disabled). */
export function pageStorage(): StorageLike | undefined {
  try {
    return (globalThis as { localStorage?: StorageLike }).localStorage;
  } catch {
    return undefined;
  }
}

export function loadDevice(storage: StorageLike | undefined, kind: DeviceKind): string {
  try {
    return storage?.getItem(DEVICE_KEYS[kind]) ?? '';
  } catch {
    return '';
  }
}

/** '' (the browser's default) is remembered by forgetting: the default follows the system's choice. */
export function saveDevice(storage: StorageLike | undefined, kind: DeviceKind, deviceId: string): void {
  try {
    if (deviceId === '') storage?.removeItem(DEVICE_KEYS[kind]);
    else storage?.setItem(DEVICE_KEYS[kind], deviceId);
  } catch {
    // Storage full or refused: the choice holds for this page only.
  }
}

/**
 * The remembered devices still plugged in and not already in use. A headset that is not there today is skipped,
 * not forgotten: it is used again once it is back at a later check-in. Before the microphone was granted the
 * browser lists devices without ids: then nothing can be checked, and the choice is tried (a microphone that
 * fails to open leaves the default one in use).
 */
export function devicesToRestore(
  devices: AudioDevices,
  saved: { readonly input: string; readonly output: string },
): { input?: string; output?: string } {
  const restore: { input?: string; output?: string } = {};
  const present = (list: AudioDevices['inputs'], id: string) =>
    list.some((d) => d.deviceId === id) || list.every((d) => d.deviceId === '');
  if (saved.input && saved.input !== devices.input && present(devices.inputs, saved.input)) {
    restore.input = saved.input;
  }
  if (saved.output && saved.output !== devices.output && present(devices.outputs, saved.output)) {
    restore.output = saved.output;
  }
  return restore;
}

/** Whether this browser can play audio on a chosen output (HTMLMediaElement.setSinkId; not in Firefox by default, nor Safari). */
export function canChooseOutput(): boolean {
  const media = (globalThis as { HTMLMediaElement?: { prototype: object } }).HTMLMediaElement;
  return media !== undefined && 'setSinkId' in media.prototype;
}
