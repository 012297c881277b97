import type { ErrorBody } from '@openhotline/protocol';
import type { FastifyError, FastifyInstance } from 'fastify';
import { HotlineError } from '../../errors.js';

/**
 * Every failure leaves as `{ code, message, details?, requestId }` with a catalogue code: schema failures,
 * malformed JSON, oversized bodies and unknown routes included. Only an unexpected error is a 500, and it is
 * logged with the request id that the body names.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const hotline = toHotlineError(error);
    if (hotline.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.debug({ code: hotline.code }, hotline.message);
    const body: ErrorBody = hotline.toBody(request.id);
    if (hotline.code === 'TokenExpired' || hotline.code === 'Unauthorized') {
      reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${hotline.code}"`);
    }
    return reply.status(hotline.status).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const error = new HotlineError('RouteNotFound', `No route ${request.method} ${request.url.split('?')[0]}.`);
    return reply.status(404).send(error.toBody(request.id));
  });
}

function toHotlineError(error: FastifyError): HotlineError {
  if (error instanceof HotlineError) return error;
  if (error.validation) {
    const errors = error.validation.map((v) => ({
      path: `${error.validationContext ?? ''}${v.instancePath}`,
      message: v.message ?? 'is invalid',
      ...(v.params && Object.keys(v.params).length > 0 ? { params: v.params } : {}),
    }));
    const first = errors[0];
    return new HotlineError('ValidationFailed', first ? `${first.path || 'request'} ${first.message}.` : undefined, {
      errors,
    });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HotlineError('InvalidJson', error.message);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HotlineError('PayloadTooLarge');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new HotlineError('UnsupportedMediaType');
    default:
      break;
  }
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) {
    return new HotlineError('InvalidJson', error.message);
  }
  if (error.statusCode === 413) return new HotlineError('PayloadTooLarge');
  if (error.statusCode === 415) return new HotlineError('UnsupportedMediaType');
  if (error.statusCode === 405) return new HotlineError('MethodNotAllowed');
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new HotlineError('ValidationFailed', error.message);
  }
  return new HotlineError('InternalError');
}
