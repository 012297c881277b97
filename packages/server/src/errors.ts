import { ERROR_CATALOGUE, type ErrorBody, type ErrorCode } from '@openhotline/protocol';

/**
 * The one error type the server throws on purpose. It carries a catalogue code, so the HTTP layer and the live
 * channel turn it into the same `{ code, message, details }` body; anything else that escapes is an InternalError.
 */
export class HotlineError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message ?? ERROR_CATALOGUE[code].message);
    this.name = 'HotlineError';
    this.status = ERROR_CATALOGUE[code].status;
  }

  toBody(requestId?: string): ErrorBody {
    return {
      code: this.code,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
      ...(requestId ? { requestId } : {}),
    };
  }
}
