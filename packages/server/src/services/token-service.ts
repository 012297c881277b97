import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import type { TokenRequest, TokenResponse } from '@openhotline/protocol';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Storage } from '../adapters/storage/storage.js';
import { HotlineError } from '../errors.js';
import type { Clock } from './clock.js';

/** Who a verified bearer token speaks for. */
export type Principal =
  | { readonly kind: 'agent'; readonly instanceId: string; readonly agentId: string; readonly clientId: string }
  /** The business system's backend, acting for its instance (for example placing a call on an agent's behalf). */
  | { readonly kind: 'backend'; readonly instanceId: string; readonly clientId: string }
  | { readonly kind: 'admin' };

const ISSUER = 'openhotline';
const AUDIENCE = 'openhotline-api';

export interface TokenServiceOptions {
  readonly storage: Storage;
  readonly clock: Clock;
  /** HMAC key for HS256 tokens, at least 32 bytes. */
  readonly secret: Uint8Array;
  readonly maxTtlSeconds: number;
  readonly adminKey: string;
}

/**
 * The guide's "BearerToken through third-party authorization": the business system's backend exchanges its
 * client credentials (and the agent id) for a short-lived JWT that the SDK then carries as `BearerToken`.
 */
export class TokenService {
  constructor(private readonly options: TokenServiceOptions) {}

  async issue(request: TokenRequest): Promise<TokenResponse> {
    const { storage, clock } = this.options;
    const client = storage.apiClients.getByClientId(request.client_id);
    // Same error and same work whether the id or the secret is wrong, so ids cannot be probed.
    const secretOk = verifySecret(request.client_secret, client?.secretHash ?? DUMMY_HASH);
    if (!client || !secretOk) throw new HotlineError('InvalidClient');
    const instanceId = client.instanceId;
    let subject: string;
    let scope: 'agent' | 'backend';
    if (request.agent_id !== undefined) {
      const agent = storage.agents.get(instanceId, request.agent_id);
      if (!agent)
        throw new HotlineError('AgentNotFound', `No agent "${request.agent_id}" in instance "${instanceId}".`);
      if (!agent.enabled) throw new HotlineError('AgentDisabled', `Agent "${request.agent_id}" is disabled.`);
      subject = agent.id;
      scope = 'agent';
    } else {
      subject = `client:${client.clientId}`;
      scope = 'backend';
    }
    const ttl = Math.min(request.expires_in ?? this.options.maxTtlSeconds, this.options.maxTtlSeconds);
    const nowSeconds = Math.floor(clock.now() / 1000);
    const token = await new SignJWT({ ins: instanceId, cid: client.clientId, scope })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(subject)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + ttl)
      .setJti(randomBytes(9).toString('base64url'))
      .sign(this.options.secret);
    return { access_token: token, token_type: 'Bearer', expires_in: ttl, scope };
  }

  /** Resolves a bearer credential (an issued JWT, or the admin key) to its principal. */
  async verify(credential: string): Promise<Principal> {
    if (credential.length === this.options.adminKey.length && safeEqual(credential, this.options.adminKey)) {
      return { kind: 'admin' };
    }
    try {
      const { payload } = await jwtVerify(credential, this.options.secret, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['HS256'],
        currentDate: new Date(this.options.clock.now()),
      });
      const instanceId = typeof payload.ins === 'string' ? payload.ins : undefined;
      const clientId = typeof payload.cid === 'string' ? payload.cid : undefined;
      if (!instanceId || !clientId || !payload.sub) throw new HotlineError('Unauthorized', 'The token lacks claims.');
      // A token dies with the client that issued it.
      if (this.options.storage.apiClients.getByClientId(clientId)?.instanceId !== instanceId) {
        throw new HotlineError('Unauthorized', 'The API client of this token no longer exists.');
      }
      if (payload.scope === 'backend') return { kind: 'backend', instanceId, clientId };
      if (payload.scope === 'agent') return { kind: 'agent', instanceId, agentId: payload.sub, clientId };
      throw new HotlineError('Unauthorized', 'The token has an unknown scope.');
    } catch (error) {
      if (error instanceof HotlineError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new HotlineError('TokenExpired');
      throw new HotlineError('Unauthorized', 'The bearer token is not valid.');
    }
  }
}

export function hashSecret(secret: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(secret, salt, 32);
  return `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function verifySecret(secret: string, stored: string): boolean {
  const [scheme, saltB64, hashB64] = stored.split('$');
  if (scheme !== 'scrypt' || !saltB64 || !hashB64) return false;
  const expected = Buffer.from(hashB64, 'base64');
  const actual = scryptSync(secret, Buffer.from(saltB64, 'base64'), expected.length);
  return timingSafeEqual(actual, expected);
}

const DUMMY_HASH = hashSecret(randomBytes(16).toString('hex'));

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
