import { describe, expect, it } from 'vitest';
import { createPlaceholderComponent, isMountable, registerUIComponent, type SoftPhoneUIComponent } from './ui';

// The seam the dial bar plugs into. One file, one module instance: the registration below is for this file only.

function fakeBar(mounted: Element[]): SoftPhoneUIComponent {
  const component = (() => null) as unknown as SoftPhoneUIComponent;
  return Object.assign(component, {
    displayName: 'SoftPhoneUI',
    isPlaceholder: false,
    mount(element: Element) {
      mounted.push(element);
      return { update: () => {}, unmount: () => {} };
    },
  });
}

describe('registering the dial bar', () => {
  it('hands out a placeholder until then, which mounts the bar once it is registered', () => {
    const mounted: Element[] = [];
    const early = createPlaceholderComponent();
    expect(early.isPlaceholder).toBe(true);

    const bar = fakeBar(mounted);
    registerUIComponent(bar);
    expect(createPlaceholderComponent()).toBe(bar);
    // A placeholder taken before the registration (getUIComponent() caches its first answer) now mounts the bar.
    expect(early.isPlaceholder).toBe(false);
    const element = { nodeType: 1 } as unknown as Element;
    early.mount(element, { config: {} as never });
    expect(mounted).toEqual([element]);
  });

  it('refuses something that cannot be mounted', () => {
    expect(() => registerUIComponent((() => null) as unknown as SoftPhoneUIComponent)).toThrow(/mount/);
    expect(isMountable(createPlaceholderComponent())).toBe(true);
  });
});
