import { SoftPhoneError } from './errors';

/**
 * Where the guide says the softphone runs: a secure context, with WebRTC and a microphone the page may use.
 * Each missing piece is found here, at registration, and reported with its own code — instead of a call that
 * fails later without saying why. Nothing here prompts the user: no getUserMedia, only what can be read.
 */

interface FeaturePolicyLike {
  allowsFeature(feature: string): boolean;
}

interface MediaDevicesLike {
  getUserMedia?: unknown;
  enumerateDevices?: () => Promise<ReadonlyArray<{ readonly kind: string }>>;
}

interface PermissionsLike {
  query(descriptor: { name: string }): Promise<{ readonly state: string }>;
}

/** The globals the checks read, so tests can pass a fake browser. */
export interface EnvironmentGlobals {
  readonly isSecureContext?: boolean;
  readonly RTCPeerConnection?: unknown;
  readonly navigator?: { readonly mediaDevices?: MediaDevicesLike; readonly permissions?: PermissionsLike };
  readonly document?: { readonly permissionsPolicy?: FeaturePolicyLike; readonly featurePolicy?: FeaturePolicyLike };
  readonly top?: unknown;
  readonly self?: unknown;
}

export async function checkEnvironment(
  g: EnvironmentGlobals = globalThis as unknown as EnvironmentGlobals,
): Promise<SoftPhoneError[]> {
  const found: SoftPhoneError[] = [];
  const add = (code: ConstructorParameters<typeof SoftPhoneError>[0], message?: string) =>
    found.push(new SoftPhoneError(code, message, { action: 'environment' }));

  const secure = g.isSecureContext !== false;
  if (!secure) add('InsecureContext');
  if (typeof g.RTCPeerConnection !== 'function') add('WebRTCUnsupported');

  const policy = g.document?.permissionsPolicy ?? g.document?.featurePolicy;
  let blockedByPolicy = false;
  try {
    blockedByPolicy = policy?.allowsFeature('microphone') === false;
  } catch {
    blockedByPolicy = false;
  }
  if (blockedByPolicy) {
    const framed = g.top !== undefined && g.self !== undefined && g.top !== g.self;
    add(
      'MicrophoneBlockedByPermissionsPolicy',
      framed
        ? 'This page runs in an <iframe> without allow="microphone", so it may not use the microphone.'
        : undefined,
    );
  }

  // In an insecure context the browser hides mediaDevices: InsecureContext already says why.
  const media = g.navigator?.mediaDevices;
  if (secure && !blockedByPolicy) {
    if (!media || typeof media.getUserMedia !== 'function') {
      add('MicrophoneUnavailable', 'This browser offers no navigator.mediaDevices.getUserMedia.');
    } else if (typeof media.enumerateDevices === 'function') {
      try {
        const devices = await media.enumerateDevices();
        if (!devices.some((d) => d.kind === 'audioinput')) add('MicrophoneUnavailable');
      } catch {
        // Could not enumerate: say nothing rather than guess.
      }
    }
    const permissions = g.navigator?.permissions;
    if (permissions && typeof permissions.query === 'function') {
      try {
        const status = await permissions.query({ name: 'microphone' });
        if (status.state === 'denied') add('MicrophonePermissionDenied');
      } catch {
        // Some browsers do not know the "microphone" permission name.
      }
    }
  }
  return found;
}
