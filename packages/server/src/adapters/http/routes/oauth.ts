import { ErrorResponseSchema, TokenRequestSchema, TokenResponseSchema } from '@openhotline/protocol';
import type { FastifyInstance } from 'fastify';
import { HotlineError } from '../../../errors.js';
import type { Hotline } from '../../../hotline.js';

/**
 * POST /oauth2/token — the client-credentials exchange of the guide's "third-party authorization". Accepts a
 * JSON or a form-encoded body, as OAuth 2 clients send either. Credentials may also come as HTTP Basic.
 */
export async function oauthRoutes(app: FastifyInstance, hotline: Hotline): Promise<void> {
  app.post(
    '/oauth2/token',
    {
      schema: {
        tags: ['auth'],
        summary: 'Exchange API client credentials for an agent (or backend) access token',
        security: [],
        body: TokenRequestSchema,
        response: { 200: TokenResponseSchema, '4xx': ErrorResponseSchema },
      },
      preValidation: async (request) => {
        // HTTP Basic client authentication (RFC 6749 §2.3.1) fills in what the body lacks.
        const header = request.headers.authorization;
        if (
          typeof header === 'string' &&
          /^Basic\s+/i.test(header) &&
          typeof request.body === 'object' &&
          request.body
        ) {
          const decoded = Buffer.from(header.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
          const colon = decoded.indexOf(':');
          if (colon > 0) {
            const body = request.body as Record<string, unknown>;
            body.client_id ??= formDecode(decoded.slice(0, colon));
            body.client_secret ??= formDecode(decoded.slice(colon + 1));
          }
        }
        const body = request.body as Record<string, unknown> | undefined;
        if (body && typeof body.grant_type === 'string' && body.grant_type !== 'client_credentials') {
          throw new HotlineError('UnsupportedGrantType', `grant_type "${body.grant_type}" is not supported.`);
        }
        // Form bodies carry numbers as text.
        if (body && typeof body.expires_in === 'string' && /^\d+$/.test(body.expires_in)) {
          body.expires_in = Number(body.expires_in);
        }
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return hotline.tokens.issue(request.body as Parameters<typeof hotline.tokens.issue>[0]);
    },
  );
}

/** RFC 6749 form-encodes Basic credentials; a malformed escape is a bad credential, not a server error. */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    throw new HotlineError('InvalidClient', 'The Basic credentials are not correctly encoded.');
  }
}
