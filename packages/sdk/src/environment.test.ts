import { describe, expect, it } from 'vitest';
import { checkEnvironment, type EnvironmentGlobals } from './environment';

const window = {};
const good = (): EnvironmentGlobals => ({
  isSecureContext: true,
  RTCPeerConnection: () => {},
  navigator: {
    mediaDevices: { getUserMedia: () => {}, enumerateDevices: async () => [{ kind: 'audioinput' }] },
    permissions: { query: async () => ({ state: 'prompt' }) },
  },
  document: { featurePolicy: { allowsFeature: () => true } },
  top: window,
  self: window,
});
const codes = async (g: EnvironmentGlobals) => (await checkEnvironment(g)).map((e) => e.code);

describe('where the softphone can run', () => {
  it('finds nothing wrong in a secure page with WebRTC and a microphone', async () => {
    expect(await codes(good())).toEqual([]);
  });

  it('reports an insecure page (http on a public host) without piling on its consequences', async () => {
    expect(await codes({ ...good(), isSecureContext: false, navigator: {} })).toEqual(['InsecureContext']);
  });

  it('reports a browser without WebRTC', async () => {
    expect(await codes({ ...good(), RTCPeerConnection: undefined })).toEqual(['WebRTCUnsupported']);
  });

  it('reports an iframe without allow="microphone" by name', async () => {
    const found = await checkEnvironment({
      ...good(),
      document: { permissionsPolicy: { allowsFeature: (f) => f !== 'microphone' } },
      top: {},
    });
    expect(found.map((e) => e.code)).toEqual(['MicrophoneBlockedByPermissionsPolicy']);
    expect(found[0]?.message).toMatch(/allow="microphone"/);
    expect(found[0]?.remedy).toMatch(/allow="microphone"/);
    expect(found[0]?.action).toBe('environment');
  });

  it('reports a machine without a microphone, and a denied permission', async () => {
    const noMic = good();
    expect(
      await codes({
        ...noMic,
        navigator: {
          ...noMic.navigator,
          mediaDevices: { getUserMedia: () => {}, enumerateDevices: async () => [{ kind: 'videoinput' }] },
        },
      }),
    ).toEqual(['MicrophoneUnavailable']);
    expect(
      await codes({
        ...noMic,
        navigator: { ...noMic.navigator, permissions: { query: async () => ({ state: 'denied' }) } },
      }),
    ).toEqual(['MicrophonePermissionDenied']);
    expect(await codes({ ...noMic, navigator: {} })).toEqual(['MicrophoneUnavailable']);
  });

  it('stays quiet when the browser cannot answer a question', async () => {
    const g = good();
    expect(
      await codes({
        ...g,
        navigator: {
          mediaDevices: { getUserMedia: () => {}, enumerateDevices: () => Promise.reject(new Error('no')) },
          permissions: { query: () => Promise.reject(new TypeError('unknown permission')) },
        },
        document: {},
      }),
    ).toEqual([]);
  });
});
