import { AgentBarStatus, type EnumLocale, type HotlineEventData } from '@openhotline/sdk';
import type { JSX, RefObject, TargetedEvent } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Ctx } from './context';
import { STATUS_TEXT, type TextKey, type Translate, translator } from './i18n';
import { DevicePanel, OneWayWarning, QualityIndicator } from './media-controls';
import {
  acwSecondsLeft,
  controlsFor,
  customerNumber,
  displayNumber,
  formatDuration,
  isOnCall,
  localeOf,
  locationText,
  normalizeDialed,
} from './model';
import { clampPoint, keyStep, loadPoint, type Point, savePoint } from './position';
import { type Announcement, type DialBarState, type DialBarStore, releaseDetail } from './store';
import { TransferPanel } from './transfer-panel';

/**
 * The dial bar's view (Preact). Everything it shows comes from the store; everything it does goes through the
 * store's actions, which call the SDK's public API. Native buttons, inputs and selects only, each with a
 * visible or accessible name, so the whole bar works from the keyboard and with a screen reader.
 */

function useStore(store: DialBarStore): DialBarState {
  const [, setVersion] = useState(0);
  useEffect(() => {
    const off = store.subscribe(() => setVersion((n) => n + 1));
    return () => {
      off();
    };
  }, [store]);
  return store.getState();
}

export const SHORTCUTS = { answer: 'KeyA', hangUp: 'KeyH', mute: 'KeyM' } as const;

export function DialBar({ store }: { store: DialBarStore }): JSX.Element | null {
  const state = useStore(store);
  const { config } = state;
  const locale = localeOf(config.locale);
  const t = translator(locale);
  const controls = controlsFor(state.phase);
  const actions = store.actions;
  const rootRef = useRef<HTMLElement>(null);
  const floating = config.isPlugin && !config.disableUI;
  const drag = useFloating(rootRef, floating);
  useShortcuts(rootRef, store, !config.disableUI);

  // disableUI: nothing on screen; the store keeps running so a later setConfig({ disableUI: false }) is current.
  if (config.disableUI) return null;
  const ctx: Ctx = { state, actions, t, locale, controls };
  const configured = config.InstanceId !== '' && config.BearerToken !== '';

  return (
    <section
      ref={rootRef}
      class={`ohd-root ${floating ? 'ohd-floating' : 'ohd-inline'}`}
      style={
        floating && drag.point
          ? { left: `${drag.point.left}px`, top: `${drag.point.top}px`, right: 'auto', bottom: 'auto' }
          : undefined
      }
      aria-label={t('regionLabel')}
      lang={locale}
      data-phase={state.phase}
      data-status={state.status}
    >
      <Header ctx={ctx} drag={floating ? drag : undefined} />
      <div class="ohd-body">
        {configured ? <ConnectionNotice ctx={ctx} /> : <p class="ohd-hint">{t('connectionNotConfigured')}</p>}
        <Body ctx={ctx} configured={configured} />
      </div>
      <Slots state={state} t={t} />
      {state.error ? (
        <div class="ohd-error" role="alert">
          <p>
            {t('errorPrefix')}: {state.error.message} <code>({state.error.code})</code>
          </p>
          <button type="button" class="ohd-btn ohd-btn-small" onClick={() => store.dismissError()}>
            {t('dismiss')}
          </button>
        </div>
      ) : null}
      {isOnCall(state.phase) ? <p class="ohd-shortcuts">{t('shortcutsHint')}</p> : null}
      <div class="ohd-sr" role="status" aria-live="polite" aria-atomic="true" data-testid="dialbar-live">
        {state.announcement ? (
          <span key={state.announcement.seq}>{announcementText(state.announcement, ctx)}</span>
        ) : null}
      </div>
    </section>
  );
}

// ------------------------------------------------------------------ header: status, timer, check out

interface Drag {
  readonly point: Point | undefined;
  onPointerDown(event: PointerEvent): void;
  onKeyDown(event: KeyboardEvent): void;
}

function Header({ ctx, drag }: { ctx: Ctx; drag: Drag | undefined }) {
  const { state, t, locale, controls, actions } = ctx;
  const tone = toneOf(state);
  return (
    <header class="ohd-head">
      {drag ? (
        <button
          type="button"
          class="ohd-grip"
          aria-label={t('moveHandle')}
          title={t('moveHint')}
          onPointerDown={drag.onPointerDown}
          onKeyDown={drag.onKeyDown}
        >
          <GripIcon />
        </button>
      ) : null}
      <span class="ohd-dot" data-tone={tone} aria-hidden="true" />
      <span class="ohd-status" data-testid="dialbar-status">
        <span class="ohd-sr">{t('statusLabel')}: </span>
        {statusLabel(state, locale, t)}
      </span>
      {/* On a call the card's call timer says it; two timers side by side would only compete. */}
      {state.phase !== 'checkedOut' && !isOnCall(state.phase) ? (
        <span class="ohd-timer" role="timer" aria-label={t('statusTimer')}>
          {formatDuration(state.now - state.statusSince)}
        </span>
      ) : null}
      <span class="ohd-spacer" />
      {controls.checkOut ? (
        <button
          type="button"
          class="ohd-btn ohd-btn-small"
          disabled={state.pending.has('agentCheckout')}
          onClick={() => void actions.checkOut()}
        >
          {t('checkOut')}
        </button>
      ) : null}
    </header>
  );
}

function toneOf(state: DialBarState): string {
  switch (state.phase) {
    case 'checkedOut':
      return 'off';
    case 'idle':
      return state.status === AgentBarStatus.AgentBreak ? 'break' : 'ready';
    case 'acw':
      return 'acw';
    case 'ringing':
      return 'ring';
    default:
      return 'call';
  }
}

function statusLabel(state: DialBarState, locale: EnumLocale, t: Translate): string {
  const name = STATUS_TEXT[locale][state.status] ?? String(state.status);
  if (state.status !== AgentBarStatus.AgentBreak || !state.breakReason) return name;
  return t('breakWith', { reason: breakReasonLabel(state, state.breakReason, locale) });
}

function breakReasonLabel(state: DialBarState, code: string, locale: EnumLocale): string {
  const reason = state.info?.breakReasons.find((r) => r.code === code)?.label ?? state.info?.systemBreakReasons[code];
  return reason ? reason[locale] : code;
}

function ConnectionNotice({ ctx }: { ctx: Ctx }) {
  const { state, t } = ctx;
  if (state.connection === 'open' || state.connection === 'idle') return null;
  const text = state.connection === 'connecting' ? t('connectionConnecting') : t('connectionReconnecting');
  return (
    <p class="ohd-hint" data-connection={state.connection}>
      <span class="ohd-badge ohd-badge-warn">{text}</span>
    </p>
  );
}

// ------------------------------------------------------------------ body by phase

function Body({ ctx, configured }: { ctx: Ctx; configured: boolean }) {
  const { state, t, actions } = ctx;
  switch (state.phase) {
    case 'checkedOut':
      if (!configured) return null;
      return (
        <div class="ohd-row">
          <p class="ohd-hint ohd-grow">{t('checkInPrompt')}</p>
          <button
            type="button"
            class="ohd-btn ohd-btn-primary"
            disabled={state.pending.has('agentCheckin')}
            onClick={() => void actions.checkIn()}
          >
            {t('checkIn')}
          </button>
        </div>
      );
    case 'idle':
      return (
        <>
          <StatusSwitch ctx={ctx} />
          <SystemBreakNotice ctx={ctx} />
          <DialForm ctx={ctx} />
          <DeviceToggle ctx={ctx} />
        </>
      );
    case 'acw':
      return (
        <>
          <StatusSwitch ctx={ctx} />
          <AcwPanel ctx={ctx} />
        </>
      );
    case 'ringing':
      return <IncomingPanel ctx={ctx} />;
    default:
      return <CallPanel ctx={ctx} />;
  }
}

/** Ready / break with a reason: only when the host allows changing the status by hand (canChangeStatusByHand). */
function StatusSwitch({ ctx }: { ctx: Ctx }) {
  const { state, t, locale, actions, controls } = ctx;
  if (!state.config.canChangeStatusByHand || !controls.statusSwitch) return null;
  const value =
    state.status === AgentBarStatus.AgentReady
      ? 'ready'
      : state.status === AgentBarStatus.AgentBreak
        ? `break:${state.breakReason}`
        : '';
  const reasons = state.info?.breakReasons ?? [];
  const currentIsSystem =
    state.status === AgentBarStatus.AgentBreak &&
    state.breakReason &&
    !reasons.some((r) => r.code === state.breakReason);
  const onChange = (event: TargetedEvent<HTMLSelectElement>) => {
    const next = event.currentTarget.value;
    if (next === 'ready') void actions.ready();
    else if (next.startsWith('break:')) void actions.takeBreak(next.slice('break:'.length));
  };
  return (
    <label class="ohd-field">
      {t('changeStatus')}
      <select
        class="ohd-select"
        value={value}
        onChange={onChange}
        disabled={state.pending.has('agentReady') || state.pending.has('agentBreak')}
      >
        {value === '' ? <option value="">{STATUS_TEXT[locale][state.status]}</option> : null}
        {currentIsSystem ? (
          <option value={value}>
            {t('breakWith', { reason: breakReasonLabel(state, state.breakReason, locale) })}
          </option>
        ) : null}
        <option value="ready">{t('ready')}</option>
        {reasons.map((r) => (
          <option key={r.code} value={`break:${r.code}`}>
            {t('breakWith', { reason: r.label[locale] })}
          </option>
        ))}
      </select>
    </label>
  );
}

/**
 * A break the server imposed (a ring timeout): without the status switch (canChangeStatusByHand false) the agent
 * would have no way back to taking calls, so this one break can always be ended from the bar.
 */
function SystemBreakNotice({ ctx }: { ctx: Ctx }) {
  const { state, t, locale, actions } = ctx;
  if (state.config.canChangeStatusByHand || state.status !== AgentBarStatus.AgentBreak) return null;
  if (!state.breakReason || state.info?.breakReasons.some((r) => r.code === state.breakReason)) return null;
  return (
    <div class="ohd-row">
      <p class="ohd-hint ohd-grow">
        {t('systemBreak', { reason: breakReasonLabel(state, state.breakReason, locale) })}
      </p>
      <button
        type="button"
        class="ohd-btn ohd-btn-primary"
        disabled={state.pending.has('agentReady')}
        onClick={() => void actions.ready()}
      >
        {t('backToReady')}
      </button>
    </div>
  );
}

function DialForm({ ctx }: { ctx: Ctx }) {
  const { state, t, actions } = ctx;
  const [number, setNumber] = useState('');
  const [callerId, setCallerId] = useState('');
  const [keypad, setKeypad] = useState(false);
  const [invalid, setInvalid] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const groups = state.info?.numberGroups ?? [];
  const submit = (event: Event) => {
    event.preventDefault();
    const dialed = normalizeDialed(number);
    if (!dialed) {
      setInvalid(true);
      inputRef.current?.focus();
      return;
    }
    setInvalid(false);
    void actions.callOut(dialed, callerId);
  };
  return (
    <form class="ohd-panel" style={{ borderTop: 0, paddingTop: 0 }} onSubmit={submit} aria-label={t('dialPad')}>
      <label class="ohd-field">
        {t('numberToCall')}
        <input
          ref={inputRef}
          class="ohd-input ohd-number"
          type="tel"
          inputMode="tel"
          autoComplete="off"
          value={number}
          aria-invalid={invalid ? 'true' : 'false'}
          aria-describedby={invalid ? 'ohd-number-error' : undefined}
          onInput={(e) => {
            setNumber(e.currentTarget.value);
            setInvalid(false);
          }}
        />
      </label>
      {invalid ? (
        <p id="ohd-number-error" class="ohd-hint ohd-bad">
          {t('invalidNumber')}
        </p>
      ) : null}
      <label class="ohd-field">
        {t('callerId')}
        <select class="ohd-select" value={callerId} onChange={(e) => setCallerId(e.currentTarget.value)}>
          <option value="">{t('callerIdDefault')}</option>
          {groups.map((g) => (
            <optgroup key={g.id} label={g.name}>
              {g.numbers.map((n) => (
                <option key={`${g.id}:${n}`} value={n}>
                  {n}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
      </label>
      {keypad ? (
        <Keypad
          label={t('dialPad')}
          onKey={(key) => {
            setNumber((n) => n + key);
            setInvalid(false);
          }}
          extra={
            <button
              type="button"
              class="ohd-btn ohd-key"
              aria-label={t('deleteDigit')}
              onClick={() => setNumber((n) => n.slice(0, -1))}
            >
              ⌫
            </button>
          }
          keys={KEYS_DIAL}
        />
      ) : null}
      <div class="ohd-row">
        <button type="button" class="ohd-btn" aria-expanded={keypad} onClick={() => setKeypad((k) => !k)}>
          {t('dialPad')}
        </button>
        <button type="submit" class="ohd-btn ohd-btn-answer ohd-btn-wide" disabled={state.pending.has('doCallOut')}>
          <PhoneIcon />
          {t('call')}
        </button>
      </div>
    </form>
  );
}

const KEYS_DTMF = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];
const KEYS_DIAL = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '+', '0'];

function Keypad({
  label,
  keys,
  onKey,
  extra,
}: {
  label: string;
  keys: readonly string[];
  onKey: (key: string) => void;
  extra?: JSX.Element;
}) {
  return (
    <fieldset class="ohd-fieldset ohd-block">
      <legend class="ohd-sr">{label}</legend>
      <div class="ohd-keys">
        {keys.map((key) => (
          <button key={key} type="button" class="ohd-btn ohd-key" onClick={() => onKey(key)}>
            {key}
          </button>
        ))}
        {extra}
      </div>
    </fieldset>
  );
}

function numberOf(call: HotlineEventData, ctx: Ctx): string {
  return displayNumber(customerNumber(call), ctx.state.config.needDesensitize);
}

function LocationLine({ call, ctx }: { call: HotlineEventData; ctx: Ctx }) {
  const text = locationText(call.location, ctx.locale) ?? ctx.t('locationUnknown');
  return (
    <span data-testid="dialbar-location">
      {ctx.t('location')}: {text}
    </span>
  );
}

function IncomingPanel({ ctx }: { ctx: Ctx }) {
  const { state, t, actions } = ctx;
  const call = state.call;
  return (
    <div class="ohd-card" data-tone="ring">
      <p class="ohd-kicker">{call?.callDirection === 'internal' ? t('incomingInternal') : t('incomingCall')}</p>
      {call ? (
        <>
          <p class="ohd-callnumber" data-testid="dialbar-number">
            {numberOf(call, ctx)}
          </p>
          <p class="ohd-meta">
            <LocationLine call={call} ctx={ctx} />
          </p>
        </>
      ) : null}
      <div class="ohd-row" style={{ marginTop: '10px' }}>
        <button
          type="button"
          class="ohd-btn ohd-btn-answer ohd-btn-wide"
          aria-keyshortcuts="Alt+Shift+A"
          disabled={state.pending.has('callAnswer')}
          onClick={() => void actions.answer()}
        >
          <PhoneIcon />
          {t('answer')}
        </button>
        <HangUpButton ctx={ctx} />
      </div>
    </div>
  );
}

function HangUpButton({ ctx, wide = true }: { ctx: Ctx; wide?: boolean }) {
  const { state, t, actions } = ctx;
  return (
    <button
      type="button"
      class={`ohd-btn ohd-btn-hangup${wide ? ' ohd-btn-wide' : ''}`}
      aria-keyshortcuts="Alt+Shift+H"
      disabled={state.pending.has('callHangup')}
      onClick={() => void actions.hangUp()}
    >
      <PhoneIcon hangUp />
      {t('hangUp')}
    </button>
  );
}

/** The line above the number: what is going on when the header's status does not say it, else who the number is. */
function callKicker(ctx: Ctx): string {
  const { state, t } = ctx;
  switch (state.phase) {
    case 'answering':
      return t('answering');
    case 'dialing':
      return t('dialing');
    case 'consultRinging':
      return t('consultRinging');
    case 'consulting':
      return t('consulting');
    case 'retrieving':
      return t('retrievingThird');
    case 'conference':
      return t('conference');
    default:
      break;
  }
  const direction = state.call?.callDirection;
  if (state.status === AgentBarStatus.AgentCallConsultEstablish || direction === 'internal') return t('colleagueLabel');
  return direction === 'outbound' ? t('calleeLabel') : t('callerLabel');
}

function CallPanel({ ctx }: { ctx: Ctx }) {
  const { state, t, actions, controls } = ctx;
  const [panel, setPanel] = useState<'none' | 'dtmf' | 'transfer' | 'devices'>('none');
  const keypadButton = useRef<HTMLButtonElement>(null);
  const transferButton = useRef<HTMLButtonElement>(null);
  const devicesButton = useRef<HTMLButtonElement>(null);
  const call = state.call;
  const open =
    panel === 'dtmf' && controls.dtmf
      ? 'dtmf'
      : panel === 'transfer' && controls.transfer
        ? 'transfer'
        : panel === 'devices' && state.media
          ? 'devices'
          : 'none';
  const close = () => {
    const back =
      panel === 'dtmf' ? keypadButton.current : panel === 'devices' ? devicesButton.current : transferButton.current;
    setPanel('none');
    back?.focus();
  };
  const panelRef = useRef<HTMLDivElement>(null);
  const closeRef = useRef(close);
  closeRef.current = close;
  // Escape closes an open keypad or transfer panel and puts the focus back on the button that opened it. (A layout
  // effect: listening must start with the panel, not a frame later.)
  useLayoutEffect(() => {
    const node = panelRef.current;
    if (!node || open === 'none') return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      event.stopPropagation();
      closeRef.current();
    };
    node.addEventListener('keydown', onKey);
    return () => node.removeEventListener('keydown', onKey);
  }, [open]);
  return (
    <div ref={panelRef} class="ohd-panel" style={{ borderTop: 0, paddingTop: 0 }}>
      <div class="ohd-card">
        <p class="ohd-kicker">{callKicker(ctx)}</p>
        {call ? (
          <p class="ohd-callnumber" data-testid="dialbar-number">
            {numberOf(call, ctx)}
          </p>
        ) : null}
        <p class="ohd-meta">
          {call ? <LocationLine call={call} ctx={ctx} /> : null}
          <span class="ohd-timer-call" role="timer" aria-label={t('callTimer')}>
            {formatDuration(state.now - state.callSince)}
          </span>
          {state.muted ? <span class="ohd-badge ohd-badge-warn">{t('muted')}</span> : null}
        </p>
        {/* A <details> is not phrasing content: it cannot sit inside the <p> above. */}
        <QualityIndicator ctx={ctx} />
        <OneWayWarning ctx={ctx} />
      </div>
      <div class="ohd-row">
        {controls.hangUp ? <HangUpButton ctx={ctx} /> : null}
        {controls.hold ? (
          <button
            type="button"
            class="ohd-btn"
            disabled={state.pending.has('callHold')}
            onClick={() => void actions.hold()}
          >
            {t('hold')}
          </button>
        ) : null}
        {controls.retrieve ? (
          <button
            type="button"
            class="ohd-btn ohd-btn-primary"
            disabled={state.pending.has('callRetrieve')}
            onClick={() => void actions.retrieve()}
          >
            {t('retrieve')}
          </button>
        ) : null}
        {controls.mute ? (
          <button
            type="button"
            class="ohd-btn"
            aria-pressed={state.muted}
            aria-keyshortcuts="Alt+Shift+M"
            disabled={state.pending.has('callMute')}
            onClick={() => void actions.toggleMute()}
          >
            {t('mute')}
          </button>
        ) : null}
      </div>
      {controls.dtmf || controls.transfer || state.media ? (
        <div class="ohd-row">
          {controls.dtmf ? (
            <button
              ref={keypadButton}
              type="button"
              class="ohd-btn"
              aria-expanded={open === 'dtmf'}
              aria-controls="ohd-dtmf"
              onClick={() => setPanel(open === 'dtmf' ? 'none' : 'dtmf')}
            >
              {t('keypad')}
            </button>
          ) : null}
          {controls.transfer ? (
            <button
              ref={transferButton}
              type="button"
              class="ohd-btn"
              aria-expanded={open === 'transfer'}
              aria-controls="ohd-transfer"
              onClick={() => setPanel(open === 'transfer' ? 'none' : 'transfer')}
            >
              {t('transfer')}
            </button>
          ) : null}
          {state.media ? (
            <button
              ref={devicesButton}
              type="button"
              class="ohd-btn"
              aria-expanded={open === 'devices'}
              aria-controls="ohd-devices"
              onClick={() => setPanel(open === 'devices' ? 'none' : 'devices')}
            >
              {t('audioDevices')}
            </button>
          ) : null}
        </div>
      ) : null}
      {controls.consultComplete || controls.conference || controls.consultCancel ? (
        <div class="ohd-row">
          {controls.consultComplete ? (
            <button
              type="button"
              class="ohd-btn ohd-btn-primary"
              disabled={state.pending.has('consultComplete')}
              onClick={() => void actions.consultComplete()}
            >
              {t('completeTransfer')}
            </button>
          ) : null}
          {controls.conference ? (
            <button
              type="button"
              class="ohd-btn"
              disabled={state.pending.has('callConference')}
              onClick={() => void actions.conference()}
            >
              {t('startConference')}
            </button>
          ) : null}
          {controls.consultCancel ? (
            <button
              type="button"
              class="ohd-btn"
              disabled={state.pending.has('consultCancel')}
              onClick={() => void actions.consultCancel()}
            >
              {t('cancelConsult')}
            </button>
          ) : null}
        </div>
      ) : null}
      {open === 'dtmf' ? (
        <div id="ohd-dtmf" class="ohd-panel">
          <Keypad label={t('dtmfKeypad')} keys={KEYS_DTMF} onKey={(key) => void actions.sendDtmf(key)} />
        </div>
      ) : null}
      {open === 'transfer' ? <TransferPanel ctx={ctx} onClose={close} /> : null}
      {open === 'devices' ? <DevicePanel ctx={ctx} id="ohd-devices" /> : null}
    </div>
  );
}

/** Between calls: the microphone and speaker can be chosen before the next call rings. */
function DeviceToggle({ ctx }: { ctx: Ctx }) {
  const { state, t } = ctx;
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const node = panel.current;
    if (!node || !open) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      event.stopPropagation();
      setOpen(false);
      button.current?.focus();
    };
    node.addEventListener('keydown', onKey);
    return () => node.removeEventListener('keydown', onKey);
  }, [open]);
  if (!state.media) return null;
  return (
    <div ref={panel} class="ohd-block">
      <div class="ohd-row">
        <button
          ref={button}
          type="button"
          class="ohd-btn ohd-btn-small"
          aria-expanded={open}
          aria-controls="ohd-devices"
          onClick={() => setOpen((o) => !o)}
        >
          {t('audioDevices')}
        </button>
      </div>
      {open ? <DevicePanel ctx={ctx} id="ohd-devices" /> : null}
    </div>
  );
}

function AcwPanel({ ctx }: { ctx: Ctx }) {
  const { state, t, actions } = ctx;
  const left = acwSecondsLeft(state.acwEndsAt, state.now);
  const last = state.lastCall;
  const detail = last ? releaseDetail(last) : undefined;
  const manual = state.config.autoChangeOnLineTime === 0;
  // Finishing early is a status change by hand: offered when the host allows it, and always when after-call work
  // has no end of its own (autoChangeOnLineTime 0), or the agent could never take a call again.
  const canFinish = manual || state.config.canChangeStatusByHand;
  return (
    <div class="ohd-card" data-tone="acw">
      <p class="ohd-kicker">{t('acw')}</p>
      {last ? (
        <p class="ohd-meta">
          <span>{numberOf(last, ctx)}</span>
          {detail ? <span>{t(detail)}</span> : null}
        </p>
      ) : null}
      <p class="ohd-hint" data-testid="dialbar-acw">
        {left !== undefined ? t('acwCountdown', { n: left }) : manual ? t('acwManual') : ''}
      </p>
      {canFinish ? (
        <div class="ohd-row" style={{ marginTop: '8px' }}>
          <button
            type="button"
            class="ohd-btn ohd-btn-primary"
            disabled={state.pending.has('agentReady')}
            onClick={() => void actions.ready()}
          >
            {t('finishAcw')}
          </button>
        </div>
      ) : null}
    </div>
  );
}

/**
 * Where the voice-to-text and service-summary panels go when enableVoiceToText / enableServiceSummary turn them
 * on. A later release fills them; empty, they take no space and say nothing.
 */
function Slots({ state, t }: { state: DialBarState; t: Translate }) {
  const direction = state.call?.callDirection;
  const scene = direction === 'outbound' ? 'callout' : direction === 'inbound' ? 'callin' : undefined;
  const voice = scene !== undefined && state.config.enableVoiceToText.includes(scene);
  return (
    <>
      {voice ? <div class="ohd-slot" data-slot="voice-to-text" title={t('voiceToText')} /> : null}
      {state.config.enableServiceSummary && state.call ? (
        <div class="ohd-slot" data-slot="service-summary" title={t('serviceSummary')} />
      ) : null}
    </>
  );
}

// ------------------------------------------------------------------ announcements

function announcementText(a: Announcement, ctx: Ctx): string {
  const { t, locale } = ctx;
  const sep = locale === 'en' ? '. ' : '。';
  const key: TextKey = a.key;
  switch (key) {
    case 'announceIncoming':
      return t(key, {
        number: a.call ? numberOf(a.call, ctx) : '',
        location: (a.call && locationText(a.call.location, locale)) || t('locationUnknown'),
      });
    case 'announceConnected':
      return t(key, { number: a.call ? numberOf(a.call, ctx) : '' });
    case 'announceStatus':
      return t(key, { status: a.status !== undefined ? STATUS_TEXT[locale][a.status] : '' });
    case 'dtmfSent':
      return t(key, { digits: a.digits ?? '' });
    case 'announceQuality': {
      const level = t(a.level === 'fair' ? 'quality_fair' : a.level === 'poor' ? 'quality_poor' : 'quality_good');
      const oneWay = a.oneWay === 'inbound-missing' || a.oneWay === 'outbound-missing' ? t(`oneWay_${a.oneWay}`) : '';
      return oneWay ? `${t(key, { level })}${sep}${oneWay}` : t(key, { level });
    }
    default:
      return a.detail ? `${t(key)}${sep}${t(a.detail)}` : t(key);
  }
}

// ------------------------------------------------------------------ keyboard shortcuts

/**
 * Alt+Shift+A answer, Alt+Shift+H hang up, Alt+Shift+M mute — anywhere on the page, so an agent typing in the CRM
 * can answer without reaching for the mouse. `code` (the physical key) rather than `key`: with Alt held, macOS
 * turns letters into other characters.
 */
function useShortcuts(rootRef: RefObject<HTMLElement | null>, store: DialBarStore, enabled: boolean): void {
  useEffect(() => {
    if (!enabled) return;
    const doc = rootRef.current?.ownerDocument ?? (globalThis as { document?: Document }).document;
    if (!doc) return;
    const onKey = (event: KeyboardEvent) => {
      if (!event.altKey || !event.shiftKey || event.ctrlKey || event.metaKey) return;
      const controls = controlsFor(store.getState().phase);
      const { actions } = store;
      let handled = true;
      if (event.code === SHORTCUTS.answer && controls.answer) void actions.answer();
      else if (event.code === SHORTCUTS.hangUp && controls.hangUp) void actions.hangUp();
      else if (event.code === SHORTCUTS.mute && controls.mute) void actions.toggleMute();
      else handled = false;
      if (handled) event.preventDefault();
    };
    doc.addEventListener('keydown', onKey);
    return () => doc.removeEventListener('keydown', onKey);
  }, [store, enabled, rootRef]);
}

// ------------------------------------------------------------------ floating and dragging (isPlugin)

function useFloating(rootRef: RefObject<HTMLElement | null>, enabled: boolean): Drag {
  const [point, setPoint] = useState<Point | undefined>(undefined);
  const pointRef = useRef<Point | undefined>(undefined);
  pointRef.current = point;

  const view = () => rootRef.current?.ownerDocument.defaultView ?? undefined;
  const storage = () => {
    try {
      return view()?.localStorage;
    } catch {
      return undefined;
    }
  };
  const clamp = (p: Point): Point => {
    const root = rootRef.current;
    const win = view();
    if (!root || !win) return p;
    return clampPoint(
      p,
      { width: root.offsetWidth, height: root.offsetHeight },
      { width: win.innerWidth, height: win.innerHeight },
    );
  };
  const current = (): Point => {
    if (pointRef.current) return pointRef.current;
    const rect = rootRef.current?.getBoundingClientRect();
    return { left: rect?.left ?? 0, top: rect?.top ?? 0 };
  };

  // Back where the agent left it, inside the window even if the window is smaller now.
  useLayoutEffect(() => {
    if (!enabled) return;
    const saved = loadPoint(storage());
    if (saved) setPoint(clamp(saved));
    const win = view();
    if (!win) return;
    const onResize = () => {
      if (pointRef.current) setPoint(clamp(pointRef.current));
    };
    win.addEventListener('resize', onResize);
    return () => win.removeEventListener('resize', onResize);
  }, [enabled]);

  const onPointerDown = (event: PointerEvent) => {
    if (event.button !== 0) return;
    const grip = event.currentTarget as HTMLElement;
    const start = current();
    const origin = { x: event.clientX, y: event.clientY };
    grip.setPointerCapture?.(event.pointerId);
    const move = (e: PointerEvent) => {
      setPoint(clamp({ left: start.left + e.clientX - origin.x, top: start.top + e.clientY - origin.y }));
    };
    const up = () => {
      grip.removeEventListener('pointermove', move);
      grip.removeEventListener('pointerup', up);
      grip.removeEventListener('pointercancel', up);
      if (pointRef.current) savePoint(storage(), pointRef.current);
    };
    grip.addEventListener('pointermove', move);
    grip.addEventListener('pointerup', up);
    grip.addEventListener('pointercancel', up);
    event.preventDefault();
  };

  const onKeyDown = (event: KeyboardEvent) => {
    const step = keyStep(event.key, event.shiftKey);
    if (!step) return;
    event.preventDefault();
    const from = current();
    const next = clamp({ left: from.left + step.left, top: from.top + step.top });
    setPoint(next);
    savePoint(storage(), next);
  };

  return { point, onPointerDown, onKeyDown };
}

// ------------------------------------------------------------------ icons (inline, so the bar loads no assets)

function PhoneIcon({ hangUp = false }: { hangUp?: boolean }) {
  return (
    <svg class={`ohd-icon${hangUp ? ' ohd-hangup-icon' : ''}`} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d="M6.6 10.8a15.2 15.2 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z" />
    </svg>
  );
}

function GripIcon() {
  return (
    <svg class="ohd-icon" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
      <circle cx="5" cy="3" r="1.4" />
      <circle cx="11" cy="3" r="1.4" />
      <circle cx="5" cy="8" r="1.4" />
      <circle cx="11" cy="8" r="1.4" />
      <circle cx="5" cy="13" r="1.4" />
      <circle cx="11" cy="13" r="1.4" />
    </svg>
  );
}
