import type { EnumLocale } from '@openhotline/sdk';
import type { Translate } from './i18n';
import type { Controls } from './model';
import type { DialBarState, DialBarStore } from './store';

/** What every part of the view gets: the state to show, the actions to call, and the words in the bar's locale. */
export type Actions = DialBarStore['actions'];

export interface Ctx {
  readonly state: DialBarState;
  readonly actions: Actions;
  readonly t: Translate;
  readonly locale: EnumLocale;
  readonly controls: Controls;
}
