import {
  type MountedComponent,
  type SDKConfig,
  SoftPhone,
  SoftPhoneError,
  type SoftPhoneUIComponent,
} from '@openhotline/sdk';
import { h, render } from 'preact';
import { DialBarStore } from './store';
import { injectStyles } from './styles';
import { DialBar } from './view';

/** What a host's own React gets when it renders `<SoftPhoneUI />` (the guide's first example): why, and what to do. */
export const REACT_HOST_MESSAGE =
  'The OpenHotline dial bar cannot be rendered by your own React as <SoftPhoneUI />: it brings its own renderer ' +
  '(the guide: the component "must be mounted with APIs.renderComponent"). Mount it into an element instead — ' +
  'in React: const ref = useRef(null); useEffect(() => APIs.renderComponent(softPhone.getUIComponent(), ' +
  'ref.current), []); return <div ref={ref} />. See docs/dialbar.md.';

const REACT_HOST_REMEDY =
  'Call APIs.renderComponent(softPhone.getUIComponent(), element) from an effect; it returns the unmount function.';

/**
 * The component getUIComponent() returns once the dial bar is registered. APIs.renderComponent calls its
 * `mount`: the bar renders with its own Preact into a child element it adds to the host's element, and follows
 * setConfig through `update`. Called as a function (a React host's `<SoftPhoneUI />`), it throws a
 * SoftPhoneError that names APIs.renderComponent — a shared React would be the host's version, not ours, which is
 * exactly the double-copy problem the guide warns about.
 */
export function createDialBarComponent(): SoftPhoneUIComponent {
  const SoftPhoneUI = (): null => {
    throw new SoftPhoneError('UnsupportedComponent', REACT_HOST_MESSAGE, {
      action: 'renderComponent',
      remedy: REACT_HOST_REMEDY,
    });
  };
  return Object.assign(SoftPhoneUI, {
    displayName: 'SoftPhoneUI',
    isPlaceholder: false,
    mount(element: Element, context: { readonly config: Readonly<SDKConfig> }): MountedComponent {
      return mountDialBar(element, context.config);
    },
  });
}

function mountDialBar(element: Element, config: Readonly<SDKConfig>): MountedComponent {
  const doc = element.ownerDocument;
  injectStyles(doc);
  // Our own child element: the host's element may hold other content, which rendering into it would replace.
  const host = doc.createElement('div');
  host.className = 'ohd-host';
  element.appendChild(host);
  const store = new DialBarStore(SoftPhone.getInstance(), config);
  render(h(DialBar, { store }), host);
  void store.start();
  return {
    update: (next) => store.setConfig(next),
    unmount: () => {
      store.stop();
      render(null, host);
      host.remove();
    },
  };
}
