/**
 * @openhotline/dialbar — the agent dial bar that softPhone.getUIComponent() returns, built only on the public API
 * of @openhotline/sdk. The one entry: everything public is exported here.
 *
 * The script-tag build (`/sdk/sdk.js`) already contains it. With a bundler, install it once before mounting:
 *
 *   import { APIs, SoftPhone } from '@openhotline/sdk';
 *   import { installDialBar } from '@openhotline/dialbar';
 *   installDialBar();
 *   APIs.renderComponent(SoftPhone.getInstance().getUIComponent(), element);
 */
import { registerUIComponent, type SoftPhoneUIComponent } from '@openhotline/sdk';
import { createDialBarComponent } from './component';

export { createDialBarComponent, REACT_HOST_MESSAGE } from './component';
export { STATUS_TEXT, TEXTS, type TextKey } from './i18n';
export { POSITION_KEY } from './position';
export { SHORTCUTS } from './view';

export const DIALBAR_VERSION = '0.1.0';

let installed: SoftPhoneUIComponent | undefined;

/** Registers the dial bar with the SDK (once), so getUIComponent() returns it. Returns the component. */
export function installDialBar(): SoftPhoneUIComponent {
  if (!installed) {
    installed = createDialBarComponent();
    registerUIComponent(installed);
  }
  return installed;
}
