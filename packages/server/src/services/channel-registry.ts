import { ChannelCloseCode, type ErrorCode } from '@openhotline/protocol';
import { type AgentKey, agentKey } from './agent-streams.js';

/** What the registry needs of one open live channel; the WebSocket adapter provides it. */
export interface ChannelConnection {
  readonly id: string;
  readonly openedAt: number;
  /** Sends an error frame with `error` and closes with `code`, the error code as close reason. */
  close(code: ChannelCloseCode, error: ErrorCode): void;
}

/**
 * The open live channels of every agent. Several channels per agent are allowed (tabs, or a reload whose new
 * socket opens before the old one is noticed dead): each is a view of the same ordered stream. Past
 * `maxPerAgent` the oldest is closed, so a forgotten tab cannot pin the limit.
 */
export class ChannelRegistry {
  private readonly byAgent = new Map<AgentKey, Map<string, ChannelConnection>>();

  add(instanceId: string, agentId: string, connection: ChannelConnection, maxPerAgent: number): void {
    const key = agentKey(instanceId, agentId);
    let open = this.byAgent.get(key);
    if (!open) {
      open = new Map();
      this.byAgent.set(key, open);
    }
    open.set(connection.id, connection);
    while (open.size > maxPerAgent) {
      const oldest = [...open.values()].sort((a, b) => a.openedAt - b.openedAt)[0];
      if (!oldest) break;
      open.delete(oldest.id);
      oldest.close(ChannelCloseCode.ConnectionLimit, 'TooManyConnections');
    }
  }

  /** Returns whether the connection was still registered (false when it was already evicted). */
  remove(instanceId: string, agentId: string, connectionId: string): boolean {
    const key = agentKey(instanceId, agentId);
    const open = this.byAgent.get(key);
    const removed = open?.delete(connectionId) ?? false;
    if (open && open.size === 0) this.byAgent.delete(key);
    return removed;
  }

  count(instanceId: string, agentId: string): number {
    return this.byAgent.get(agentKey(instanceId, agentId))?.size ?? 0;
  }

  total(): number {
    let n = 0;
    for (const open of this.byAgent.values()) n += open.size;
    return n;
  }

  /** Closes every channel of an agent that was disabled (AgentDisabled) or removed (AgentNotFound). */
  closeAgent(instanceId: string, agentId: string, error: ErrorCode): void {
    const open = this.byAgent.get(agentKey(instanceId, agentId));
    for (const connection of [...(open?.values() ?? [])]) connection.close(ChannelCloseCode.AgentRemoved, error);
  }

  closeAll(code: ChannelCloseCode, error: ErrorCode): void {
    for (const open of [...this.byAgent.values()])
      for (const connection of [...open.values()]) connection.close(code, error);
  }
}
