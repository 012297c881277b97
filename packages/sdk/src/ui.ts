import type { SDKConfig } from './config';

/**
 * The UI seam between the headless SDK and the dial bar. The SDK never imports the dial bar (dependencies point
 * protocol ← sdk ← dialbar): the full script-tag build (packages/dialbar/src/umd.ts) registers it here with
 * registerUIComponent, and getUIComponent() returns what was registered. Without a registration (the headless
 * ESM build, or sdk.headless.js) it returns the placeholder below: a plain function component that renders
 * nothing and carries the `mount` APIs.renderComponent uses. Mounted, the placeholder leaves only an HTML comment
 * in the element, so a developer inspecting the page sees why there is no bar.
 */

export interface MountedComponent {
  /** Called with the new configuration after every effective setConfig (a locale change re-renders). */
  update(config: Readonly<SDKConfig>): void;
  unmount(): void;
}

export interface SoftPhoneUIComponent {
  /**
   * Called as a function component by a host's own React. The placeholder returns null; the dial bar throws a
   * SoftPhoneError (UnsupportedComponent) that points at APIs.renderComponent, since it has its own renderer.
   */
  (props?: unknown): null;
  displayName: string;
  /** True when no dial bar is in this build (the placeholder renders nothing). */
  readonly isPlaceholder: boolean;
  mount(element: Element, context: { readonly config: Readonly<SDKConfig> }): MountedComponent;
}

const TEXT = {
  'zh-CN': 'OpenHotline 拨号条尚未发布:当前 SDK 以无界面方式运行',
  en: 'OpenHotline dial bar is not available yet: the SDK runs headless',
} as const;

interface CommentHost {
  readonly ownerDocument: { createComment(text: string): ChildNode } | null;
  appendChild(node: ChildNode): unknown;
}

let registered: SoftPhoneUIComponent | undefined;

/**
 * Makes `component` what getUIComponent() returns. Internal wiring, exported for the dial bar's entry (the full
 * script-tag build calls it at load, before any page code runs) and for bundlers that assemble SDK and dial bar
 * themselves. A placeholder handed out before the registration mounts the registered component, so the order of
 * registerUIComponent and the first getUIComponent() does not matter to APIs.renderComponent.
 */
export function registerUIComponent(component: SoftPhoneUIComponent): void {
  if (!isMountable(component)) {
    throw new TypeError('registerUIComponent needs a component function with mount(element, context).');
  }
  registered = component;
}

/** What getUIComponent() returns: the registered dial bar, else a placeholder. */
export function createPlaceholderComponent(): SoftPhoneUIComponent {
  return registered ?? placeholderComponent();
}

function placeholderComponent(): SoftPhoneUIComponent {
  const component = ((): null => null) as unknown as SoftPhoneUIComponent;
  Object.defineProperties(component, {
    displayName: { value: 'SoftPhoneUI(placeholder)', writable: true },
    isPlaceholder: { get: () => registered === undefined },
  });
  return Object.assign(component, {
    mount(element: Element, context: { readonly config: Readonly<SDKConfig> }): MountedComponent {
      if (registered) return registered.mount(element, context);
      const host = element as unknown as CommentHost;
      let node: ChildNode | undefined;
      const render = (config: Readonly<SDKConfig>) => {
        const next = host.ownerDocument?.createComment(
          ` openhotline-dialbar placeholder locale=${config.locale}: ${TEXT[config.locale] ?? TEXT.en} `,
        );
        if (!next) return;
        if (node?.parentNode) node.replaceWith(next);
        else host.appendChild(next);
        node = next;
      };
      render(context.config);
      return {
        update: render,
        unmount: () => {
          node?.remove();
          node = undefined;
        },
      };
    },
  });
}

export function isMountable(value: unknown): value is SoftPhoneUIComponent {
  return typeof value === 'function' && typeof (value as { mount?: unknown }).mount === 'function';
}

export function isElement(value: unknown): value is Element {
  return typeof value === 'object' && value !== null && (value as { nodeType?: unknown }).nodeType === 1;
}
