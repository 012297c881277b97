import { EnumEventName, EnumWSEventType } from '@openhotline/protocol';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from './config';
import { EventBus, isHotlineCode, isLifecycleEvent } from './events';

describe('the event registry', () => {
  it('calls back with the guide eventData first, then preConfig and data as the demo reads them', () => {
    const bus = new EventBus();
    const calls: unknown[][] = [];
    bus.on('actionSuccess', (...args) => calls.push(args));
    bus.emit('actionSuccess', DEFAULT_CONFIG, { action: 'agentCheckin' });
    expect(calls).toEqual([
      [
        { type: 'actionSuccess', preConfig: DEFAULT_CONFIG, data: { action: 'agentCheckin' } },
        DEFAULT_CONFIG,
        { action: 'agentCheckin' },
      ],
    ]);
  });

  it('unregisters exactly the registration the canceler came from, and a second cancel does nothing', () => {
    const bus = new EventBus();
    const seen: string[] = [];
    const cb = () => seen.push('cb');
    const first = bus.on('x', cb);
    bus.on('x', cb);
    bus.on('x', () => seen.push('other'));
    first();
    first();
    bus.emit('x', DEFAULT_CONFIG, null);
    expect(seen).toEqual(['cb', 'other']);
    expect(bus.count('x')).toBe(2);
  });

  it('keeps dispatching when a callback throws, and reports the error', () => {
    const errors: unknown[] = [];
    const bus = new EventBus((error) => errors.push(error));
    const seen: number[] = [];
    bus.on('x', () => {
      throw new Error('host bug');
    });
    bus.on('x', () => seen.push(2));
    bus.emit('x', DEFAULT_CONFIG, null);
    expect(seen).toEqual([2]);
    expect(errors).toHaveLength(1);
  });

  it('calls the callbacks registered at the moment of the emit, even if one unregisters another', () => {
    const bus = new EventBus();
    const seen: string[] = [];
    let cancelB = () => {};
    bus.on('x', () => {
      seen.push('a');
      cancelB();
      bus.on('x', () => seen.push('late'));
    });
    cancelB = bus.on('x', () => seen.push('b'));
    bus.emit('x', DEFAULT_CONFIG, null);
    expect(seen).toEqual(['a', 'b']);
    seen.length = 0;
    bus.emit('x', DEFAULT_CONFIG, null);
    expect(seen).toEqual(['a', 'late']);
  });

  it('knows the 16 lifecycle events and the 21 hotline codes apart', () => {
    expect(Object.values(EnumEventName).filter(isLifecycleEvent)).toHaveLength(16);
    expect(Object.values(EnumWSEventType).filter(isHotlineCode)).toHaveLength(21);
    expect(isLifecycleEvent('AgentRinging')).toBe(false);
    expect(isHotlineCode('onCallComing')).toBe(false);
    expect(isLifecycleEvent(undefined)).toBe(false);
  });
});
