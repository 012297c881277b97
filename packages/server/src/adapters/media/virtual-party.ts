import { randomInt } from 'node:crypto';
import { FrameLoop } from './audio-sources.js';
import { decodeMulaw } from './g711.js';
import { FRAME_SAMPLES } from './media-clock.js';
import { MediaError, type VirtualPartyOptions } from './media-engine.js';
import type { OutgoingPacket, SourcedPacket } from './outbound-stream.js';
import { PcmFifo } from './pcm-fifo.js';
import { DtmfDetector, DtmfSendQueue } from './rfc4733.js';
import { sineWave } from './tone.js';
import { ENGINE_SAMPLE_RATE } from './wav.js';

/** What a virtual party keeps of what it heard: the last minute is plenty for any test or demo. */
const MAX_HEARD_FRAMES = 3_000;

/**
 * A party of the virtual carrier as an audio endpoint inside the engine: on every media clock tick it says the next
 * frame of its prompt (or a DTMF packet) and listens to one frame of what reached it. It has no network leg; the
 * engine hands it packets exactly as it would hand them to a SIP trunk, in G.711 μ-law (PCMU) like one.
 */
export class VirtualPartyEndpoint {
  readonly ssrc = randomInt(0x1_0000_0000);
  private readonly prompt: FrameLoop;
  private readonly loop: boolean;
  private spoken = 0;
  private timestamp = randomInt(0x1_0000_0000);
  private readonly dtmfOut = new DtmfSendQueue();
  private readonly dtmfIn = new DtmfDetector();
  private readonly ear = new PcmFifo();
  private heardFrames: Int16Array[] = [];
  private digits = '';

  constructor(options: VirtualPartyOptions) {
    this.prompt = new FrameLoop(promptPcm(options));
    this.loop = options.loop ?? true;
  }

  /** This tick's packet from the party, if it says anything. */
  speak(): SourcedPacket | undefined {
    const now = this.timestamp;
    this.timestamp = (this.timestamp + FRAME_SAMPLES) >>> 0;
    // While pressing keys the party says nothing else, as phones do.
    const dtmf = this.dtmfOut.next(now);
    if (dtmf) return dtmf.packet ? { kind: 'dtmf', codec: 'pcmu', ...dtmf.packet } : undefined;
    if (!this.loop && this.spoken >= this.prompt.frames) return undefined;
    const payload = this.prompt.frame(this.spoken++);
    return { kind: 'audio', codec: 'pcmu', timestamp: now, marker: false, payload };
  }

  /** A packet the engine sends to the party: always PCMU, as to a telephone (the engine transcodes for it). */
  receive(packet: OutgoingPacket): void {
    if (packet.kind === 'dtmf') this.digits += this.dtmfIn.push(packet.timestamp, packet.payload);
    else if (packet.codec === 'pcmu') this.ear.push(decodeMulaw(packet.payload));
  }

  /** Moves one tick of what arrived into what it heard. */
  listen(): void {
    const frame = new Int16Array(FRAME_SAMPLES);
    this.ear.pull(frame);
    this.heardFrames.push(frame);
    if (this.heardFrames.length > MAX_HEARD_FRAMES)
      this.heardFrames.splice(0, this.heardFrames.length - MAX_HEARD_FRAMES);
  }

  sendDtmf(digits: string): void {
    this.dtmfOut.enqueue(digits);
  }

  heard(): Int16Array {
    const out = new Int16Array(this.heardFrames.length * FRAME_SAMPLES);
    for (const [i, frame] of this.heardFrames.entries()) out.set(frame, i * FRAME_SAMPLES);
    return out;
  }

  clearHeard(): void {
    this.heardFrames = [];
  }

  heardDigits(): string {
    return this.digits;
  }
}

function promptPcm({ prompt }: VirtualPartyOptions): Int16Array {
  if (prompt instanceof Int16Array) {
    if (prompt.length === 0) throw new MediaError('InvalidArgument', 'the prompt is empty');
    return prompt;
  }
  const { toneHz, amplitude = 0.3 } = prompt;
  if (!(toneHz > 0 && toneHz < ENGINE_SAMPLE_RATE / 2)) {
    throw new MediaError('InvalidArgument', `toneHz must be between 0 and 4000 Hz, got ${toneHz}`);
  }
  if (!(amplitude > 0 && amplitude <= 1)) {
    throw new MediaError('InvalidArgument', `amplitude must be in (0, 1], got ${amplitude}`);
  }
  // One second loops without a click when the frequency is a whole number of Hz; otherwise nearly so.
  return sineWave(toneHz, ENGINE_SAMPLE_RATE, ENGINE_SAMPLE_RATE, amplitude);
}
