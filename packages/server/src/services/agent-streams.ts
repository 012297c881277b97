import { EnumLocale, type HotlineEventData, type NotifyMessage, SceneType } from '@openhotline/protocol';
import { FrameRing } from './frame-ring.js';
import { FrameTemplates, type UnsequencedMessage } from './notify-frames.js';

export type { UnsequencedMessage } from './notify-frames.js';

/**
 * Each agent has one ordered stream of pushed messages. Every message gets the next sequence number of that
 * stream; the newest `ringSize` are kept so that a channel that reconnects with the last number it saw gets
 * exactly what it missed. Older gaps, or a resume against another server run (another `epoch`), get a snapshot.
 *
 * A message is serialized once for the default locale (notify-frames.ts), and the same UTF-8 bytes go to every
 * subscriber in that locale, so the cost of a push does not grow with JSON work per tab; another locale's frame is
 * made once per push from those bytes. The ring keeps only bytes, in one buffer per agent outside the JavaScript
 * heap (frame-ring.ts): a thousand agents' rings hold over a hundred thousand frames that the garbage collector
 * would otherwise walk and promote.
 */
export type AgentKey = string;

/**
 * The key of an agent's stream and state: `instance/agent`. The same string object is handed out for the same
 * agent, so the maps keyed by it hash it once (V8 keeps a string's hash): a freshly joined string must be
 * flattened and hashed at every lookup, and a status change looks its agent up several times. The memo starts
 * over past KEY_MEMO_LIMIT keys, so ids that are no agents (from requests that will be refused) cannot make it
 * grow without end.
 */
export function agentKey(instanceId: string, agentId: string): AgentKey {
  const known = keyMemo.get(instanceId)?.get(agentId);
  if (known !== undefined) return known;
  if (keyMemoSize >= KEY_MEMO_LIMIT) {
    keyMemo.clear();
    keyMemoSize = 0;
  }
  let byAgent = keyMemo.get(instanceId);
  if (byAgent === undefined) {
    byAgent = new Map();
    keyMemo.set(instanceId, byAgent);
  }
  const key = `${instanceId}/${agentId}`;
  byAgent.set(agentId, key);
  keyMemoSize += 1;
  return key;
}

const KEY_MEMO_LIMIT = 100_000;
const keyMemo = new Map<string, Map<string, AgentKey>>();
let keyMemoSize = 0;

/** A serialized message: the UTF-8 JSON text of one WebSocket text frame. */
export type Frame = Buffer;

export interface StreamSubscriber {
  readonly locale: EnumLocale;
  send(frame: Frame): void;
}

/** Bytes a ring may hold per kept frame, on average: frames are well under a kilobyte, call events a little over. */
const RING_BYTES_PER_FRAME = 1536;

class AgentStream {
  seq = 0;
  readonly ring: FrameRing;
  readonly subscribers = new Set<StreamSubscriber>();
  /** Default-locale frames of this agent's recent message shapes (see notify-frames.ts). */
  readonly templates = new FrameTemplates();

  constructor(ringSize: number) {
    this.ring = new FrameRing(ringSize, ringSize * RING_BYTES_PER_FRAME);
  }
}

export type AttachResult =
  | { readonly kind: 'replay'; readonly frames: readonly Frame[] }
  | { readonly kind: 'snapshot'; readonly seq: number };

export class AgentStreams {
  private readonly streams = new Map<AgentKey, AgentStream>();

  constructor(
    /** Identifies this server run: sequence numbers restart with it. */
    readonly epoch: string,
    private readonly ringSize: number,
  ) {}

  /** Sequences and delivers a message to every channel of the agent; returns its sequence number. */
  publish(key: AgentKey, message: UnsequencedMessage): number {
    const stream = this.streamOf(key);
    stream.seq += 1;
    const frame = stream.templates.encode(message, stream.seq);
    stream.ring.push(frame);
    let localized: Map<EnumLocale, Frame> | undefined;
    for (const subscriber of stream.subscribers) {
      if (subscriber.locale === DEFAULT_LOCALE) {
        subscriber.send(frame);
        continue;
      }
      localized ??= new Map();
      let other = localized.get(subscriber.locale);
      if (other === undefined) {
        other = inLocale(frame, subscriber.locale);
        localized.set(subscriber.locale, other);
      }
      subscriber.send(other);
    }
    return stream.seq;
  }

  /** The sequence number of the newest message of the agent's stream (0 before any). */
  head(key: AgentKey): number {
    return this.streams.get(key)?.seq ?? 0;
  }

  /**
   * Subscribes a channel. With a resume point it returns the frames after it when they are all still kept;
   * otherwise the caller must send a snapshot valid at the returned seq. Runs synchronously, so no message can
   * slip between the replay and the live subscription.
   */
  attach(key: AgentKey, subscriber: StreamSubscriber, resume?: { epoch: string; lastSeq: number }): AttachResult {
    const stream = this.streamOf(key);
    stream.subscribers.add(subscriber);
    if (!resume || resume.epoch !== this.epoch || resume.lastSeq > stream.seq) {
      return { kind: 'snapshot', seq: stream.seq };
    }
    const missed = stream.seq - resume.lastSeq;
    if (missed === 0) return { kind: 'replay', frames: [] };
    const oldestKept = stream.seq - stream.ring.size + 1;
    if (resume.lastSeq + 1 < oldestKept) return { kind: 'snapshot', seq: stream.seq };
    const frames = stream.ring.newest(missed);
    return {
      kind: 'replay',
      frames: subscriber.locale === DEFAULT_LOCALE ? frames : frames.map((f) => inLocale(f, subscriber.locale)),
    };
  }

  detach(key: AgentKey, subscriber: StreamSubscriber): void {
    this.streams.get(key)?.subscribers.delete(subscriber);
  }

  subscriberCount(key: AgentKey): number {
    return this.streams.get(key)?.subscribers.size ?? 0;
  }

  /** Forgets an agent's stream (the agent was removed). */
  drop(key: AgentKey): void {
    this.streams.delete(key);
  }

  private streamOf(key: AgentKey): AgentStream {
    let stream = this.streams.get(key);
    if (!stream) {
      stream = new AgentStream(this.ringSize);
      this.streams.set(key, stream);
    }
    return stream;
  }
}

const DEFAULT_LOCALE = EnumLocale['zh-CN'];

/** The wire form of a pushed message (notify-frames.ts): `type` first, the message's own fields, then `seq`. */
type NotifyFrame = { type: 'notify' } & NotifyMessage;

/**
 * A frame in another locale, made from the default locale's frame: it carries both languages in `descriptions`,
 * so any locale can be made from it.
 */
function inLocale(frame: Frame, locale: EnumLocale): Frame {
  return Buffer.from(JSON.stringify(localize(JSON.parse(frame.toString()) as NotifyFrame, locale)));
}

/** `agentBasicDesc` and `agentCallDesc` speak the channel's language; `descriptions` keeps both. */
function localize(message: NotifyFrame, locale: EnumLocale): NotifyFrame {
  if (message.sceneType !== SceneType.HotlineMessage) return message;
  const texts = message.data.descriptions[locale === 'en' ? 'en' : 'zh-CN'];
  const data: HotlineEventData = { ...message.data, ...texts };
  return { ...message, data };
}
