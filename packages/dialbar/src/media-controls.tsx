import type { CallQuality } from '@openhotline/sdk';
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import type { Ctx } from './context';
import type { DeviceKind } from './devices';
import type { TextKey } from './i18n';
import { qualityLevel, signalBars } from './model';
import type { BarError } from './store';

/**
 * The call's media in the bar: how the line sounds (from the SDK's onCallQuality) and which microphone and speaker
 * it uses (getAudioDevices / setAudioInput / setAudioOutput). Both exist only where the page runs call audio:
 * without a media session (a headless integration) they render nothing.
 */

/** Signal bars, the level in a word and the MOS; opened (a native <details>), the figures behind them. */
export function QualityIndicator({ ctx }: { ctx: Ctx }) {
  const { state, t } = ctx;
  const quality = state.quality;
  if (!state.media || !quality) return null;
  const level = qualityLevel(quality);
  const word = t(`quality_${level}`);
  const figures = qualityFigures(quality, ctx);
  return (
    <details class="ohd-quality" data-level={level} data-testid="dialbar-quality">
      <summary
        class="ohd-quality-summary"
        title={figures.map(([label, value]) => `${label}: ${value}`).join('\n')}
        aria-label={`${t('qualityLabel')}: ${word}, ${t('qualityMos')} ${quality.mos.toFixed(1)}`}
      >
        <SignalIcon bars={signalBars(level)} />
        <span>{word}</span>
        <span class="ohd-quality-mos">{quality.mos.toFixed(1)}</span>
      </summary>
      <dl class="ohd-quality-detail" aria-label={t('qualityDetails')}>
        {figures.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}

/** The one-way warning: the agent must know at once, in words, which side is silent. */
export function OneWayWarning({ ctx }: { ctx: Ctx }) {
  const { state, t } = ctx;
  const oneWay = state.quality?.oneWayAudio;
  if (!state.media || !oneWay || oneWay === 'none') return null;
  return (
    <p class="ohd-warning" data-testid="dialbar-one-way">
      {t(`oneWay_${oneWay}`)}
    </p>
  );
}

function qualityFigures(q: CallQuality, { t }: Ctx): [string, string][] {
  return [
    [t('qualityRtt'), `${Math.round(q.rttMs)} ms`],
    [t('qualityJitter'), `${q.jitterMs.toFixed(1)} ms`],
    [t('qualityLoss'), `${q.packetLossPct.toFixed(1)} %`],
    [t('qualityMos'), q.mos.toFixed(2)],
  ];
}

function SignalIcon({ bars }: { bars: 1 | 2 | 3 }) {
  return (
    <svg class="ohd-signal" viewBox="0 0 15 12" aria-hidden="true" focusable="false">
      {[0, 1, 2].map((i) => (
        <rect key={i} x={i * 5} y={8 - i * 4} width="4" height={4 + i * 4} rx="1" data-on={i < bars} />
      ))}
    </svg>
  );
}

/**
 * The microphone and speaker selects. Listed when shown, and again when the browser says a device came or went
 * (devicechange: the SDK has no event for it, the browser does); a choice applies at once, mid-call too.
 */
export function DevicePanel({ ctx, id }: { ctx: Ctx; id: string }) {
  const { state, t, actions } = ctx;
  const firstRef = useRef<HTMLSelectElement>(null);
  useEffect(() => {
    void actions.loadDevices();
    const devices = (globalThis as { navigator?: { mediaDevices?: EventTarget } }).navigator?.mediaDevices;
    const onChange = () => void actions.loadDevices();
    devices?.addEventListener?.('devicechange', onChange);
    return () => devices?.removeEventListener?.('devicechange', onChange);
  }, [actions]);
  // Opened from the keyboard, the panel takes the focus (Escape gives it back to its button).
  useLayoutEffect(() => firstRef.current?.focus(), [state.devices === undefined]);
  const devices = state.devices;
  const select = (kind: DeviceKind, list: readonly { deviceId: string; label: string }[], chosen: string) => {
    // Chromium lists the system default as a device of its own ('default'): that is what '' plays on.
    const listsDefault = list.some((d) => d.deviceId === '' || d.deviceId === 'default');
    const current =
      chosen === '' && listsDefault ? (list.find((d) => d.deviceId === 'default')?.deviceId ?? '') : chosen;
    return (
      <label class="ohd-field">
        {t(kind === 'input' ? 'microphone' : 'speaker')}
        <select
          ref={kind === 'input' ? firstRef : undefined}
          class="ohd-select"
          value={current}
          disabled={state.pending.has(kind === 'input' ? 'setAudioInput' : 'setAudioOutput')}
          onChange={(e) => void actions.setDevice(kind, e.currentTarget.value)}
        >
          {listsDefault ? null : <option value="">{t('deviceDefault')}</option>}
          {list.map((d, index) => (
            <option key={d.deviceId || index} value={d.deviceId}>
              {d.label || t('deviceUnnamed', { n: index + 1 })}
            </option>
          ))}
        </select>
      </label>
    );
  };
  return (
    <div id={id} class="ohd-panel" data-testid="dialbar-devices">
      <p class="ohd-panel-title">{t('audioDevices')}</p>
      {devices ? (
        <>
          {select('input', devices.inputs, devices.input)}
          {state.canChooseOutput && devices.outputs.length > 0
            ? select('output', devices.outputs, devices.output)
            : null}
        </>
      ) : null}
      {state.deviceError ? (
        <p class="ohd-hint ohd-bad" role="alert">
          {deviceErrorText(state.deviceError, ctx)}
        </p>
      ) : null}
    </div>
  );
}

const DEVICE_ERRORS: Readonly<Record<string, TextKey>> = {
  AudioDeviceFailed: 'deviceError_AudioDeviceFailed',
  MicrophoneUnavailable: 'deviceError_MicrophoneUnavailable',
  MicrophonePermissionDenied: 'deviceError_MicrophonePermissionDenied',
};

/** The SDK's codes in words an agent can act on; anything else with the SDK's own message. */
export function deviceErrorText(error: BarError, { t }: Pick<Ctx, 't'>): string {
  const key = DEVICE_ERRORS[error.code];
  return key ? t(key) : t('deviceError_other', { message: error.message });
}
