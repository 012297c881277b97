import { build } from '../packages/sdk/build.mjs';

/**
 * The browser tests load the SDK the way integrators do, as `/sdk/sdk.js` from the server, which serves
 * packages/sdk/dist. Build it once per test run so the bundle under test is always the current source.
 */
export default async function setup(): Promise<void> {
  await build();
}
