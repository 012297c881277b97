import type { FastifyRequest } from 'fastify';
import { HotlineError } from '../../errors.js';
import type { Principal, TokenService } from '../../services/token-service.js';

/** Reads `Authorization: Bearer <credential>`; the live channel also accepts `?access_token=` (browsers). */
export function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match?.[1];
  }
  return undefined;
}

export async function authenticate(request: FastifyRequest, tokens: TokenService): Promise<Principal> {
  const credential = bearerOf(request);
  if (!credential) throw new HotlineError('Unauthorized');
  return tokens.verify(credential);
}

export type AgentPrincipal = Extract<Principal, { kind: 'agent' }>;

/**
 * Agent routes act on the agent of the token and nothing else. The SDK also sends the configured InstanceId
 * (`X-Instance-Id`); a mismatch is refused rather than silently ignored, so a wrong config is found early.
 */
export async function requireAgent(request: FastifyRequest, tokens: TokenService): Promise<AgentPrincipal> {
  const principal = await authenticate(request, tokens);
  if (principal.kind !== 'agent') throw new HotlineError('Forbidden', 'This route needs an agent token.');
  const claimed = request.headers['x-instance-id'];
  if (typeof claimed === 'string' && claimed !== '' && claimed !== principal.instanceId) {
    throw new HotlineError('InstanceMismatch', undefined, { tokenInstanceId: principal.instanceId, claimed });
  }
  return principal;
}

/** Admin routes: the admin key for everything, or a backend token for its own instance. */
export async function requireInstanceAdmin(
  request: FastifyRequest,
  tokens: TokenService,
  instanceId: string | undefined,
): Promise<Principal> {
  const principal = await authenticate(request, tokens);
  if (principal.kind === 'admin') return principal;
  if (principal.kind === 'backend' && instanceId !== undefined && principal.instanceId === instanceId) return principal;
  throw new HotlineError('Forbidden', 'This route needs the admin key (or a backend token of this instance).');
}
