import type { SDKConfig } from './config';

/**
 * The dial bar is a later issue. Until it ships, getUIComponent() returns this placeholder: a plain function
 * component that renders nothing (valid inside a React host's tree, since it returns null), and carries the
 * `mount` that APIs.renderComponent uses outside React. Mounted, it leaves only an HTML comment in the element,
 * so a developer inspecting the page sees why the bar is not there.
 */

export interface MountedComponent {
  /** Called with the new configuration after every effective setConfig (a locale change re-renders). */
  update(config: Readonly<SDKConfig>): void;
  unmount(): void;
}

export interface SoftPhoneUIComponent {
  (props?: unknown): null;
  displayName: string;
  /** True while getUIComponent() returns the placeholder (no dial bar in this build). */
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

function placeholder(): null {
  return null;
}

export function createPlaceholderComponent(): SoftPhoneUIComponent {
  const component = placeholder as unknown as SoftPhoneUIComponent;
  return Object.assign(component, {
    displayName: 'SoftPhoneUI(placeholder)',
    isPlaceholder: true,
    mount(element: Element, context: { readonly config: Readonly<SDKConfig> }): MountedComponent {
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
