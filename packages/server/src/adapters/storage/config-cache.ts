import type { Storage } from './storage.js';

/**
 * A read-through cache of the configuration (instances, agents, groups, numbers, reasons, API clients) in front of
 * a Storage. Every status change and every pushed event reads the agent and its instance; with the cache those
 * reads cost a map lookup instead of several SQL queries.
 *
 * Correctness rule: any write to any configuration repository clears the whole cache, and so does a transaction
 * that fails (it may have cached values that were rolled back). Cached values are frozen, so a caller cannot
 * change them by accident. This holds while one process owns the database — the embedded default; a cluster
 * invalidates over its event bus instead.
 */
const CACHED_READS = {
  instances: ['get', 'list'],
  agents: ['get', 'list'],
  skillGroups: ['get', 'list'],
  hotlineNumbers: ['get', 'list', 'findByNumber'],
  numberGroups: ['get', 'list'],
  breakReasons: ['get', 'list'],
  apiClients: ['list', 'getByClientId'],
} as const;

type CachedRepository = keyof typeof CACHED_READS;
type Method = (...args: unknown[]) => unknown;

export function withConfigCache(storage: Storage): Storage {
  const cache = new Map<string, unknown>();
  const clear = () => cache.clear();
  const wrapped: Partial<Record<CachedRepository, unknown>> = {};
  for (const [name, reads] of Object.entries(CACHED_READS) as [CachedRepository, readonly string[]][]) {
    wrapped[name] = wrapRepository(name, storage[name], new Set(reads), cache, clear);
  }
  return {
    ...storage,
    ...(wrapped as Pick<Storage, CachedRepository>),
    agentRuntime: storage.agentRuntime,
    stateHistory: storage.stateHistory,
    callRecords: storage.callRecords,
    meta: storage.meta,
    transaction<T>(fn: () => T): T {
      try {
        return storage.transaction(fn);
      } catch (error) {
        clear();
        throw error;
      }
    },
    close: () => {
      clear();
      storage.close();
    },
  };
}

function wrapRepository(
  name: string,
  repository: object,
  reads: ReadonlySet<string>,
  cache: Map<string, unknown>,
  clear: () => void,
): object {
  const wrapped: Record<string, Method> = {};
  for (const method of methodNames(repository)) {
    const call = (repository as Record<string, Method>)[method]?.bind(repository);
    if (!call) continue;
    wrapped[method] = reads.has(method)
      ? (...args: unknown[]) => {
          // Keys are built without allocating arrays: these reads sit on the path of every pushed event.
          let key = `${name}.${method}`;
          for (let i = 0; i < args.length; i++) key += `\u0000${String(args[i])}`;
          const hit = cache.get(key);
          if (hit !== undefined || cache.has(key)) return hit;
          const value = deepFreeze(call(...args));
          cache.set(key, value);
          return value;
        }
      : (...args: unknown[]) => {
          clear();
          try {
            return call(...args);
          } finally {
            // A write may fail half-way inside a larger transaction: never keep what was read around it.
            clear();
          }
        };
  }
  return wrapped;
}

/** Own and prototype methods (repositories may be object literals or class instances). */
function methodNames(object: object): string[] {
  const names = new Set<string>();
  for (let proto: object | null = object; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key !== 'constructor' && typeof (object as Record<string, unknown>)[key] === 'function') names.add(key);
    }
  }
  return [...names];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
