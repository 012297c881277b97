import { SoftPhoneError } from './errors';
import type { Timers } from './reconnecting-socket';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface HttpRequest {
  readonly base: string;
  readonly token: string;
  readonly instanceId: string;
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly path: string;
  readonly body?: unknown;
}

/**
 * Fetch with the SDK's credentials and the server's error bodies turned into SoftPhoneErrors. Bearer token only,
 * never cookies (`credentials: 'omit'`): the page is another origin than the server, and the server's CORS
 * answers bearer-token requests.
 */
export class HttpClient {
  constructor(
    private readonly fetchImpl: FetchLike | undefined,
    private readonly timers: Timers,
    private readonly timeoutMs = 15_000,
  ) {}

  async send<T>(request: HttpRequest): Promise<T> {
    const doFetch = this.fetchImpl ?? (globalThis.fetch?.bind(globalThis) as FetchLike | undefined);
    if (!doFetch) throw new SoftPhoneError('NetworkError', 'This environment has no fetch.');
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${request.token}`,
    };
    if (request.instanceId) headers['x-instance-id'] = request.instanceId;
    const init: RequestInit = { method: request.method, headers, credentials: 'omit', mode: 'cors' };
    if (request.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(request.body);
    }
    const controller = typeof AbortController === 'function' ? new AbortController() : undefined;
    if (controller) init.signal = controller.signal;
    const timer = this.timers.setTimeout(() => controller?.abort(), this.timeoutMs);
    let response: Response;
    try {
      response = await doFetch(`${request.base}${request.path}`, init);
    } catch (error) {
      const aborted = controller?.signal.aborted === true;
      throw new SoftPhoneError(
        'NetworkError',
        aborted
          ? `No answer from ${request.base} within ${this.timeoutMs} ms.`
          : `Could not reach ${request.base}: ${error instanceof Error ? error.message : String(error)}.`,
      );
    } finally {
      this.timers.clearTimeout(timer);
    }
    const text = await response.text().catch(() => '');
    const body = parseJson(text);
    if (response.ok) return body as T;
    throw errorFromBody(response.status, body, response.headers?.get?.('x-request-id') ?? undefined);
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The server's `{ code, message, details, requestId }`, or UnexpectedResponse when the body is not one. */
export function errorFromBody(status: number, body: unknown, requestIdHeader?: string): SoftPhoneError {
  if (typeof body === 'object' && body !== null && typeof (body as { code?: unknown }).code === 'string') {
    const { code, message, details, requestId } = body as {
      code: string;
      message?: unknown;
      details?: unknown;
      requestId?: unknown;
    };
    return new SoftPhoneError(code as SoftPhoneError['code'], typeof message === 'string' ? message : code, {
      status,
      details: typeof details === 'object' && details !== null ? (details as Record<string, unknown>) : undefined,
      requestId: typeof requestId === 'string' ? requestId : requestIdHeader,
    });
  }
  return new SoftPhoneError('UnexpectedResponse', `HTTP ${status} without an OpenHotline error body.`, {
    status,
    details: { body: typeof body === 'string' ? body.slice(0, 200) : body },
  });
}
