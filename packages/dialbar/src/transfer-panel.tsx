import type { TransferTarget, TransferTargetAgent, TransferTargetSkillGroup } from '@openhotline/sdk';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Ctx } from './context';
import { filterTargets, normalizeDialed } from './model';

/**
 * Transfer or consult: pick a colleague (with their live status; those who cannot take a call now are disabled)
 * or a skill group from the server's list, or type an external number. The list is native radio buttons sharing
 * one name, so the arrow keys move through it (skipping disabled ones) and Tab leaves it; the search field above
 * filters it, and ArrowDown from the search field goes into it.
 */

/** The list is asked for again this often while the panel is open: statuses change while the agent chooses. */
export const TARGETS_REFRESH_MS = 5000;
const RADIO_NAME = 'ohd-transfer-target';

type Choice = { readonly kind: 'agent' | 'group'; readonly id: string } | undefined;

export function TransferPanel({ ctx, onClose }: { ctx: Ctx; onClose: () => void }) {
  const { state, t, locale, actions } = ctx;
  const [query, setQuery] = useState('');
  const [choice, setChoice] = useState<Choice>(undefined);
  const [number, setNumber] = useState('');
  const [invalid, setInvalid] = useState(false);
  const searchRef = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLDivElement>(null);
  // Opened from the keyboard, the panel takes the focus (and Escape gives it back to its button).
  useLayoutEffect(() => searchRef.current?.focus(), []);
  useEffect(() => {
    void actions.loadTransferTargets();
    const timer = setInterval(() => void actions.loadTransferTargets(), TARGETS_REFRESH_MS);
    return () => clearInterval(timer);
  }, [actions]);

  const all = state.targets;
  const shown = all ? filterTargets(all, query) : undefined;
  const chosenAgent = choice?.kind === 'agent' ? all?.agents.find((a) => a.id === choice.id) : undefined;

  const target = (): TransferTarget | undefined => {
    if (number.trim() !== '') {
      const dialed = normalizeDialed(number);
      return dialed ? { type: 'number', number: dialed } : undefined;
    }
    // A colleague who stopped being available since the choice (the list refreshes) is no target any more.
    if (choice?.kind === 'agent') return chosenAgent?.available ? { type: 'agent', agentId: choice.id } : undefined;
    if (choice?.kind === 'group') return { type: 'skillGroup', skillGroupId: choice.id };
    return undefined;
  };
  const go = (how: 'transfer' | 'consult') => {
    const chosen = target();
    if (!chosen) {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    void (how === 'transfer' ? actions.transfer(chosen) : actions.consult(chosen));
  };
  const pick = (next: Choice) => {
    setChoice(next);
    setNumber('');
    setInvalid(false);
  };
  const intoList = (event: KeyboardEvent) => {
    if (event.key !== 'ArrowDown') return;
    const radios = [...(listRef.current?.querySelectorAll<HTMLInputElement>('input[type=radio]') ?? [])];
    const first = radios.find((r) => r.checked && !r.disabled) ?? radios.find((r) => !r.disabled);
    if (!first) return;
    event.preventDefault();
    first.focus();
  };

  const radio = (kind: 'agent' | 'group', item: TransferTargetAgent | TransferTargetSkillGroup) => {
    const disabled = 'available' in item && !item.available;
    const meta =
      'available' in item
        ? `${item.id} · ${item.statusDesc[locale]}`
        : t('groupCounts', { ready: item.readyAgents, waiting: item.waiting });
    return (
      <label key={`${kind}:${item.id}`} class="ohd-target" data-disabled={disabled}>
        <input
          type="radio"
          name={RADIO_NAME}
          value={`${kind}:${item.id}`}
          disabled={disabled}
          checked={choice?.kind === kind && choice.id === item.id && number === ''}
          onChange={() => pick({ kind, id: item.id })}
        />
        <span class="ohd-target-name">{item.name}</span>
        <span class="ohd-target-meta">{meta}</span>
      </label>
    );
  };

  return (
    <div id="ohd-transfer" class="ohd-panel">
      <fieldset class="ohd-fieldset ohd-block">
        <legend class="ohd-panel-title">{t('transferTitle')}</legend>
        <label class="ohd-field">
          {t('searchTargets')}
          <input
            ref={searchRef}
            class="ohd-input"
            type="search"
            autoComplete="off"
            value={query}
            onInput={(e) => setQuery(e.currentTarget.value)}
            onKeyDown={intoList}
          />
        </label>
        <div ref={listRef} class="ohd-targets" data-testid="dialbar-targets">
          {shown ? (
            <>
              {shown.agents.length > 0 ? (
                <fieldset class="ohd-fieldset ohd-block ohd-target-group">
                  <legend>{t('colleagues')}</legend>
                  {shown.agents.map((a) => radio('agent', a))}
                </fieldset>
              ) : null}
              {shown.skillGroups.length > 0 ? (
                <fieldset class="ohd-fieldset ohd-block ohd-target-group">
                  <legend>{t('skillGroups')}</legend>
                  {shown.skillGroups.map((g) => radio('group', g))}
                </fieldset>
              ) : null}
              {shown.agents.length + shown.skillGroups.length === 0 ? <p class="ohd-hint">{t('noTargets')}</p> : null}
            </>
          ) : state.targetsError ? (
            <p class="ohd-hint ohd-bad">{t('targetsFailed', { message: state.targetsError.message })}</p>
          ) : (
            <p class="ohd-hint">{t('targetsLoading')}</p>
          )}
        </div>
        <label class="ohd-field">
          {t('externalNumber')}
          <input
            class="ohd-input"
            type="tel"
            inputMode="tel"
            autoComplete="off"
            value={number}
            aria-invalid={invalid && number.trim() !== ''}
            onInput={(e) => {
              setNumber(e.currentTarget.value);
              setInvalid(false);
            }}
          />
        </label>
        {invalid ? (
          <p class="ohd-hint ohd-bad" role="alert">
            {number.trim() !== '' ? t('invalidNumber') : t('pickTarget')}
          </p>
        ) : null}
        <div class="ohd-row">
          <button
            type="button"
            class="ohd-btn ohd-btn-primary"
            disabled={state.pending.has('callTransfer')}
            onClick={() => go('transfer')}
          >
            {t('blindTransfer')}
          </button>
          <button
            type="button"
            class="ohd-btn"
            disabled={state.pending.has('callConsult')}
            onClick={() => go('consult')}
          >
            {t('consult')}
          </button>
          <span class="ohd-spacer" />
          <button type="button" class="ohd-btn ohd-btn-small" onClick={onClose}>
            {t('close')}
          </button>
        </div>
      </fieldset>
    </div>
  );
}
