import { AgentBarStatus, EnumWSEventType, type ServerFrame } from '@openhotline/protocol';
import type {
  Bridge,
  Conference,
  IceCandidateInit,
  MediaEngine,
  MediaEngineStats,
  VirtualParty,
  VirtualPartyPrompt,
} from '../adapters/media/media-engine.js';
import type { AgentService } from './agent-service.js';
import { type AgentKey, agentKey } from './agent-streams.js';
import type { CallRecordings } from './call-recordings.js';
import type { Logger } from './logger.js';

/** What the call service tells the media side about a call; the media service turns it into engine operations. */
export interface CallMedia {
  /** The agent and the customer talk (answer, callee answered, transfer answered, retrieve after a consult). */
  connect(call: MediaCallRef, agentId: string): void;
  /**
   * The agent waits for the other side to answer (dialing out, calling a colleague): its line hears ringback until
   * the call connects or ends.
   */
  ringback(call: MediaCallRef, agentId: string): void;
  /** The customer is on hold (hold, or waiting during a consultation): music for them, nothing from them. */
  hold(call: MediaCallRef, held: boolean): void;
  mute(call: MediaCallRef, agentId: string, muted: boolean): void;
  /** DTMF to the customer. */
  dtmf(call: MediaCallRef, digits: string): void;
  /** Agent A consults agent B: the two lines talk while the customer waits. */
  consult(call: MediaCallRef, agentId: string, consultedAgentId: string): void;
  /**
   * The handling agent leaves a call that goes on (transfer, attended transfer, leaving a conference): nothing links
   * its line to the call any more, and the customer waits on hold until the next party is connected.
   */
  handlerLeft(call: MediaCallRef): void;
  /** Customer, agent and consulted agent all talk. */
  conference(call: MediaCallRef, agentIds: readonly string[]): void;
  /** The call is over: every bridge closes, the customer's endpoint goes; agent lines stay up. */
  ended(call: MediaCallRef): void;
}

export interface MediaCallRef {
  readonly connId: string;
  readonly instanceId: string;
  /** The customer's leg id (its media endpoint), or null for an internal call. */
  readonly customerLegId: string | null;
  readonly customerKind: 'virtual' | 'sip' | 'webrtc';
}

interface CallAudio {
  customer: string | null;
  bridge: Bridge | undefined;
  consultBridge: Bridge | undefined;
  conference: Conference | undefined;
  /** The agent line hearing ringback while the other side has not answered. */
  ringback: string | undefined;
}

interface LineOwner {
  send(frame: ServerFrame): void;
}

export interface MediaSnapshot extends MediaEngineStats {
  readonly agentLines: { readonly connected: number; readonly failed: number };
}

/**
 * Media for agents and calls. Each agent has one media line (a WebRTC peer connection to the engine), opened by
 * the browser's offer over the live channel and kept for the whole check-in, so answering a call only re-points
 * RTP. The channel that sent the latest offer owns the line (one media owner across tabs: the last tab that asked
 * for audio gets it). Virtual customers become engine endpoints that speak a prompt and keep what they hear.
 */
export class MediaService implements CallMedia {
  private readonly owners = new Map<AgentKey, LineOwner>();
  /**
   * Whether each agent line that has connected since it was opened (AgentJoinChannel was told), until it closes
   * (AgentLeaveChannel), is up (`connected`) or down (`failed`: a vanished browser's line fails, and needs a new
   * offer). A `disconnected` line may come back by itself (ICE keeps checking) and keeps its last state.
   */
  private readonly lineStates = new Map<AgentKey, 'connected' | 'failed'>();
  private readonly calls = new Map<string, CallAudio>();
  private readonly parties = new Map<string, VirtualParty>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      readonly engine: MediaEngine;
      readonly agents: AgentService;
      readonly log: Logger;
      readonly prompt: VirtualPartyPrompt;
      /** Records what the customer and its agents say (absent: recording is off). */
      readonly recordings?: CallRecordings;
    },
  ) {
    const { engine } = deps;
    engine.on('localCandidate', ({ lineId, candidate }) => {
      this.owners.get(lineId)?.send({ type: 'media.candidate', candidate });
    });
    engine.on('lineState', ({ lineId, state }) => this.lineState(lineId, state));
    engine.on('warning', (warning) => deps.log.warn(warning, 'media warning'));
    // An agent whose live channel is gone keeps its call while it can still hear and be heard.
    deps.agents.keepsCallWithoutChannel = (instanceId, agentId) =>
      this.lineStates.get(agentKey(instanceId, agentId)) === 'connected';
    // The line lives as long as the check-in: checking out closes it.
    deps.agents.onStatusChange((instanceId, agentId, agent) => {
      if (agent.status === AgentBarStatus.AgentCheckout) void this.closeLine(instanceId, agentId);
    });
  }

  /** For metrics: the engine's counters, and how many agents' lines are up and how many failed (and not yet back). */
  snapshot(): MediaSnapshot {
    let connected = 0;
    let failed = 0;
    for (const state of this.lineStates.values()) {
      if (state === 'connected') connected++;
      else failed++;
    }
    return { ...this.deps.engine.stats(), agentLines: { connected, failed } };
  }

  /** The browser's offer: answers it (opening or renegotiating the agent's line) and makes this channel the owner. */
  async offer(instanceId: string, agentId: string, sdp: string, iceRestart: boolean, owner: LineOwner): Promise<void> {
    const lineId = agentKey(instanceId, agentId);
    this.owners.set(lineId, owner);
    const { answerSdp } = await this.deps.engine.openAgentLine(lineId, sdp, { iceRestart });
    owner.send({ type: 'media.answer', sdp: answerSdp });
  }

  candidate(instanceId: string, agentId: string, candidate: IceCandidateInit | null): void {
    this.deps.engine.addRemoteCandidate(agentKey(instanceId, agentId), candidate);
  }

  /** A channel closed: it no longer receives candidates. The line itself stays (calls survive a reload). */
  channelClosed(instanceId: string, agentId: string, owner: LineOwner): void {
    const lineId = agentKey(instanceId, agentId);
    if (this.owners.get(lineId) === owner) this.owners.delete(lineId);
  }

  /** The virtual customer of a call, for tests and demos: what it heard. */
  partyOf(connId: string): VirtualParty | undefined {
    const customer = this.calls.get(connId)?.customer;
    return customer ? this.parties.get(customer) : undefined;
  }

  /** Finishes the recordings (their rows need storage still open), then the engine. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.deps.recordings?.close();
      await this.deps.engine.close();
    })();
    return this.closing;
  }

  // ------------------------------------------------------------------ CallMedia

  connect(call: MediaCallRef, agentId: string): void {
    this.run(call, 'connect', (audio) => {
      this.unlink(audio);
      const customer = this.customerOf(call, audio);
      const line = this.lineOf(call.instanceId, agentId);
      if (!customer || !line) return;
      this.deps.engine.setHold(customer, false);
      audio.bridge = this.deps.engine.bridge(line, customer);
      this.deps.recordings?.talking(call, customer, [{ agentId, endpointId: line }]);
    });
  }

  ringback(call: MediaCallRef, agentId: string): void {
    this.run(call, 'ringback', (audio) => {
      const line = this.lineOf(call.instanceId, agentId);
      if (!line) return;
      this.deps.engine.setWaitingAudio(line, 'ringback');
      audio.ringback = line;
    });
  }

  hold(call: MediaCallRef, held: boolean): void {
    this.run(call, 'hold', (audio) => {
      const customer = this.customerOf(call, audio);
      if (customer) this.deps.engine.setHold(customer, held);
      // Held, the customer talks with nobody: the segment ends; retrieved, the same agent(s) start a new one.
      if (held) this.deps.recordings?.pause(call.connId);
      else if (audio.bridge || audio.conference) this.deps.recordings?.resume(call.connId);
    });
  }

  mute(call: MediaCallRef, agentId: string, muted: boolean): void {
    this.run(call, 'mute', () => {
      const line = this.lineOf(call.instanceId, agentId);
      if (line) this.deps.engine.setMute(line, muted);
    });
  }

  dtmf(call: MediaCallRef, digits: string): void {
    this.run(call, 'dtmf', (audio) => {
      const customer = this.customerOf(call, audio);
      if (customer) this.deps.engine.sendDtmf(customer, digits);
    });
  }

  consult(call: MediaCallRef, agentId: string, consultedAgentId: string): void {
    this.run(call, 'consult', (audio) => {
      const a = this.lineOf(call.instanceId, agentId);
      const b = this.lineOf(call.instanceId, consultedAgentId);
      audio.bridge?.close();
      audio.bridge = undefined;
      this.deps.recordings?.pause(call.connId);
      const customer = this.customerOf(call, audio);
      if (customer) this.deps.engine.setHold(customer, true);
      if (a && b) audio.consultBridge = this.deps.engine.bridge(a, b);
    });
  }

  conference(call: MediaCallRef, agentIds: readonly string[]): void {
    this.run(call, 'conference', (audio) => {
      this.unlink(audio);
      const customer = this.customerOf(call, audio);
      const lines = agentIds.flatMap((id) => {
        const line = this.lineOf(call.instanceId, id);
        return line ? [line] : [];
      });
      if (customer) this.deps.engine.setHold(customer, false);
      const members = customer ? [...lines, customer] : lines;
      if (members.length >= 2) audio.conference = this.deps.engine.conference(members);
      if (customer && audio.conference) {
        const parties = agentIds.flatMap((agentId) => {
          const endpointId = this.lineOf(call.instanceId, agentId);
          return endpointId ? [{ agentId, endpointId }] : [];
        });
        this.deps.recordings?.talking(call, customer, parties);
      }
    });
  }

  handlerLeft(call: MediaCallRef): void {
    this.run(call, 'handlerLeft', (audio) => {
      this.unlink(audio);
      this.deps.recordings?.pause(call.connId);
      const customer = this.customerOf(call, audio);
      if (customer) this.deps.engine.setHold(customer, true);
    });
  }

  ended(call: MediaCallRef): void {
    this.deps.recordings?.ended(call.connId);
    const audio = this.calls.get(call.connId);
    if (!audio) return;
    this.calls.delete(call.connId);
    this.unlink(audio);
    if (audio.customer) {
      this.parties.delete(audio.customer);
      void this.deps.engine.closeEndpoint(audio.customer).catch(() => {});
    }
  }

  // ------------------------------------------------------------------ internals

  /** Media failures never break call control: the call goes on, the problem is logged. */
  private run(call: MediaCallRef, what: string, action: (audio: CallAudio) => void): void {
    let audio = this.calls.get(call.connId);
    if (!audio) {
      audio = {
        customer: null,
        bridge: undefined,
        consultBridge: undefined,
        conference: undefined,
        ringback: undefined,
      };
      this.calls.set(call.connId, audio);
    }
    try {
      action(audio);
    } catch (error) {
      this.deps.log.warn({ err: error, connId: call.connId, what }, 'media operation failed');
    }
  }

  /** Undoes everything that links lines to the call: bridges, conference, and a ringback still playing. */
  private unlink(audio: CallAudio): void {
    if (audio.ringback) {
      const line = audio.ringback;
      audio.ringback = undefined;
      try {
        // A bridge resets it already; this is for a call that ends (or moves on) before anyone answered.
        this.deps.engine.setWaitingAudio(line, 'none');
      } catch {
        // The line is gone (checked out meanwhile): nothing left to silence.
      }
    }
    audio.bridge?.close();
    audio.consultBridge?.close();
    audio.conference?.close();
    audio.bridge = undefined;
    audio.consultBridge = undefined;
    audio.conference = undefined;
  }

  /** The customer's endpoint, made on first use: a virtual customer speaks the configured prompt. */
  private customerOf(call: MediaCallRef, audio: CallAudio): string | null {
    if (audio.customer) return audio.customer;
    if (!call.customerLegId) return null;
    // A web caller's WebRTC endpoint was opened (openAgentLine) under the customer leg's id by the web-call service.
    if (call.customerKind === 'webrtc') {
      audio.customer = call.customerLegId;
      return audio.customer;
    }
    if (call.customerKind !== 'virtual') return null;
    const party = this.deps.engine.createVirtualParty(call.customerLegId, { prompt: this.deps.prompt, loop: true });
    this.parties.set(party.id, party);
    audio.customer = party.id;
    return party.id;
  }

  private lineOf(instanceId: string, agentId: string): string | undefined {
    const lineId = agentKey(instanceId, agentId);
    return this.lineStates.has(lineId) || this.owners.has(lineId) ? lineId : undefined;
  }

  private lineState(lineId: string, state: 'connected' | 'disconnected' | 'failed' | 'closed'): void {
    // The engine also carries lines that are not agents' (web callers, whose service listens for them itself).
    if (!this.owners.has(lineId) && !this.lineStates.has(lineId)) return;
    this.owners.get(lineId)?.send({ type: 'media.state', state });
    const [instanceId = '', agentId = ''] = lineId.split('/');
    const joined = this.lineStates.has(lineId);
    if (state === 'closed') {
      this.lineStates.delete(lineId);
      if (joined) this.deps.agents.announce(instanceId, agentId, EnumWSEventType.AgentLeaveChannel, 'media-closed');
      return;
    }
    // Failed or disconnected before it ever connected: nothing joined yet.
    if (!joined && state !== 'connected') return;
    if (state !== 'disconnected') this.lineStates.set(lineId, state);
    if (!joined) this.deps.agents.announce(instanceId, agentId, EnumWSEventType.AgentJoinChannel, 'media-connected');
  }

  private async closeLine(instanceId: string, agentId: string): Promise<void> {
    const lineId = agentKey(instanceId, agentId);
    if (!this.lineStates.has(lineId) && !this.owners.has(lineId)) return;
    this.owners.delete(lineId);
    try {
      await this.deps.engine.closeEndpoint(lineId);
    } catch (error) {
      this.deps.log.warn({ err: error, lineId }, 'closing a media line failed');
    }
  }
}
