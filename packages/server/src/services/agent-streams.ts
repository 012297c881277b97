import { EnumLocale, type HotlineEventData, type NotifyMessage, SceneType } from '@openhotline/protocol';
import { FrameTemplates, type UnsequencedMessage } from './notify-frames.js';

export type { UnsequencedMessage } from './notify-frames.js';

/**
 * Each agent has one ordered stream of pushed messages. Every message gets the next sequence number of that
 * stream; the newest `ringSize` are kept so that a channel that reconnects with the last number it saw gets
 * exactly what it missed. Older gaps, or a resume against another server run (another `epoch`), get a snapshot.
 *
 * Messages are serialized once per locale, and the same UTF-8 bytes go to every subscriber of that locale, so the
 * cost of a push does not grow with JSON work per tab. The bytes are what the WebSocket sends anyway (it would
 * encode a string on every send), and kept as a Buffer they live outside the JavaScript heap: a thousand agents'
 * replay rings are a hundred thousand frames that the garbage collector would otherwise walk on every major cycle.
 */
export type AgentKey = string;

export const agentKey = (instanceId: string, agentId: string): AgentKey => `${instanceId}/${agentId}`;

/** A serialized message: the UTF-8 JSON text of one WebSocket text frame. */
export type Frame = Buffer;

/**
 * A kept message, held only as serialized frames (the message object itself is dropped: the bytes are several
 * times smaller than the object graph, and replay only needs the bytes). The default-locale frame is always
 * there; others are made on first use.
 */
interface Entry {
  readonly seq: number;
  /** The default locale's frame. */
  readonly frame: Frame;
  /** Other locales' frames, made on first use. */
  others?: Map<EnumLocale, Frame>;
}

export interface StreamSubscriber {
  readonly locale: EnumLocale;
  send(frame: Frame): void;
}

class AgentStream {
  seq = 0;
  readonly ring: Entry[] = [];
  readonly subscribers = new Set<StreamSubscriber>();
  /** Default-locale frames of this agent's recent message shapes (see notify-frames.ts). */
  readonly templates = new FrameTemplates();
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
    const entry: Entry = { seq: stream.seq, frame: stream.templates.encode(message, stream.seq) };
    stream.ring.push(entry);
    if (stream.ring.length > this.ringSize) stream.ring.shift();
    for (const subscriber of stream.subscribers) subscriber.send(frameOf(entry, subscriber.locale));
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
    const oldestKept = stream.ring[0]?.seq ?? stream.seq + 1;
    if (resume.lastSeq + 1 < oldestKept) return { kind: 'snapshot', seq: stream.seq };
    const frames = stream.ring.slice(stream.ring.length - missed).map((e) => frameOf(e, subscriber.locale));
    return { kind: 'replay', frames };
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
      stream = new AgentStream();
      this.streams.set(key, stream);
    }
    return stream;
  }
}

const DEFAULT_LOCALE = EnumLocale['zh-CN'];

/** The wire form of a pushed message (notify-frames.ts): `type` first, the message's own fields, then `seq`. */
type NotifyFrame = { type: 'notify' } & NotifyMessage;

/** A frame in another locale than the default, made from the default one. */
function serialize(message: NotifyFrame, locale: EnumLocale): Frame {
  return Buffer.from(JSON.stringify(localize(message, locale)));
}

function frameOf(entry: Entry, locale: EnumLocale): Frame {
  if (locale === DEFAULT_LOCALE) return entry.frame;
  let frame = entry.others?.get(locale);
  if (frame === undefined) {
    // The default frame carries both languages in `descriptions`, so any locale can be made from it.
    frame = serialize(JSON.parse(entry.frame.toString()) as NotifyFrame, locale);
    entry.others ??= new Map();
    entry.others.set(locale, frame);
  }
  return frame;
}

/** `agentBasicDesc` and `agentCallDesc` speak the channel's language; `descriptions` keeps both. */
function localize(message: NotifyFrame, locale: EnumLocale): NotifyFrame {
  if (message.sceneType !== SceneType.HotlineMessage) return message;
  const texts = message.data.descriptions[locale === 'en' ? 'en' : 'zh-CN'];
  const data: HotlineEventData = { ...message.data, ...texts };
  return { ...message, data };
}
