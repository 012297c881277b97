/**
 * The script-tag build (dist/sdk.js): `<script src="https://your-server/sdk/sdk.js">` sets window.SoftPhoneSDK,
 * as the guide's CDN script does, and window.SoftPhone to the same object (one of the guide's examples reads that
 * name). A second copy on the same page keeps the first, so the page still has exactly one SoftPhone.
 */
import * as SoftPhoneSDK from './index';
import { createMediaSession } from './media-session';

interface SdkGlobals {
  SoftPhoneSDK?: typeof SoftPhoneSDK;
  SoftPhone?: typeof SoftPhoneSDK;
}

SoftPhoneSDK.SoftPhone.registerMediaSession(createMediaSession);
const g = globalThis as SdkGlobals;
if (!g.SoftPhoneSDK) g.SoftPhoneSDK = SoftPhoneSDK;
g.SoftPhone ??= g.SoftPhoneSDK;
