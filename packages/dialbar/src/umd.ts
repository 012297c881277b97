/**
 * The full script-tag build (packages/sdk/dist/sdk.js, served at /sdk/sdk.js): the SDK with the dial bar and its
 * renderer. It registers the dial bar, so getUIComponent() returns it, then sets window.SoftPhoneSDK as the
 * guide's CDN script does, and window.SoftPhone to the same object (one of the guide's examples reads that name).
 * A second copy on the same page keeps the first, so the page still has exactly one SoftPhone.
 */
import * as SoftPhoneSDK from '@openhotline/sdk';
import { createMediaSession } from '@openhotline/sdk/media';
import { installDialBar } from './index';

interface SdkGlobals {
  SoftPhoneSDK?: typeof SoftPhoneSDK;
  SoftPhone?: typeof SoftPhoneSDK;
}

installDialBar();
// Call audio (microphone, WebRTC line, ring tone): the script-tag build carries it; the headless ESM core does not.
SoftPhoneSDK.SoftPhone.registerMediaSession(createMediaSession);
const g = globalThis as SdkGlobals;
if (!g.SoftPhoneSDK) g.SoftPhoneSDK = SoftPhoneSDK;
g.SoftPhone ??= g.SoftPhoneSDK;
