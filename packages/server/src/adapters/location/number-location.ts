import type { NumberLocation } from '@openhotline/protocol';

/**
 * Where a phone number is from (归属地): province, city and carrier. Unknown numbers say so (`known: false`,
 * empty fields); they never guess.
 */
export interface NumberLocator {
  locate(number: string): NumberLocation;
  /** Loads its data now (the server calls it at start), so the first caller does not wait for it. */
  load?(): void;
}

export const UNKNOWN_LOCATION: NumberLocation = { province: '', city: '', carrier: '', known: false };
