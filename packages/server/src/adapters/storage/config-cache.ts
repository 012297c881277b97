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

export interface ConfigCacheOptions {
  /** Values held at most (hits and misses together); past it the cache starts over. */
  readonly maxValues?: number;
}

export function withConfigCache(storage: Storage, options: ConfigCacheOptions = {}): Storage {
  const maxValues = options.maxValues ?? MAX_CACHED_VALUES;
  const cache: CacheRoot = Object.assign(new Map<string, CacheNode>(), { filled: 0 });
  const clear = () => {
    cache.clear();
    cache.filled = 0;
  };
  const wrapped: Partial<Record<CachedRepository, unknown>> = {};
  for (const [name, reads] of Object.entries(CACHED_READS) as [CachedRepository, readonly string[]][]) {
    wrapped[name] = wrapRepository(name, storage[name], new Set(reads), cache, clear, maxValues);
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
  cache: CacheRoot,
  clear: () => void,
  maxValues: number,
): object {
  const wrapped: Record<string, Method> = {};
  for (const method of methodNames(repository)) {
    const call = (repository as Record<string, Method>)[method]?.bind(repository);
    if (!call) continue;
    wrapped[method] = reads.has(method)
      ? cachedRead(cache, `${name}.${method}`, call, maxValues)
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

/**
 * One cached read. Values are found by walking one map per argument (a trie keyed by the arguments themselves),
 * never by building a string key: these reads sit on the path of every pushed event, and a concatenated key is
 * a new string to allocate and hash on every call, while the ids passed in are usually the same string objects
 * (their hash already computed). Reads take at most three arguments, so the common arities avoid a rest array.
 */
function cachedRead(cache: CacheRoot, read: string, call: Method, maxValues: number): Method {
  const nodeOf = (): CacheNode => {
    let node = cache.get(read);
    if (!node) {
      node = new CacheNode();
      cache.set(read, node);
    }
    return node;
  };
  const lookup = (args: ArrayLike<unknown>): unknown => {
    let node = nodeOf();
    for (let i = 0; i < args.length; i++) node = node.child(args[i]);
    if (node.filled) return node.value;
    // Misses are cached too (unknown ids are asked again and again), so a flood of made-up ids must not grow the
    // cache without bound: past the cap it starts over.
    if (++cache.filled > maxValues) {
      cache.clear();
      cache.filled = 0;
      return lookup(args);
    }
    const value = deepFreeze(call(...Array.from(args)));
    node.filled = true;
    node.value = value;
    return value;
  };
  return function read(this: unknown) {
    // biome-ignore lint/complexity/noArguments: avoids allocating a rest array on the hot path
    return lookup(arguments);
  };
}

/** A level of the read cache: the value for the arguments so far, and the next argument's levels. */
class CacheNode {
  filled = false;
  value: unknown;
  private children: Map<unknown, CacheNode> | undefined;

  child(arg: unknown): CacheNode {
    this.children ??= new Map();
    let node = this.children.get(arg);
    if (!node) {
      node = new CacheNode();
      this.children.set(arg, node);
    }
    return node;
  }
}

/** Reads by name (`agents.get`); `filled` counts the values held, to bound the whole. */
type CacheRoot = Map<string, CacheNode> & { filled: number };

const MAX_CACHED_VALUES = 100_000;

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
