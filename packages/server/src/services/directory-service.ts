import { randomBytes } from 'node:crypto';
import type {
  Agent,
  ApiClient,
  BreakReason,
  CreateAgent,
  CreateApiClient,
  CreateBreakReason,
  CreatedApiClient,
  CreateHotlineNumber,
  CreateInstance,
  CreateNumberGroup,
  CreateSkillGroup,
  HotlineNumber,
  Instance,
  InstanceSettings,
  NumberGroup,
  QueueSettings,
  SkillGroup,
  UpdateAgent,
  UpdateBreakReason,
  UpdateHotlineNumber,
  UpdateInstance,
  UpdateNumberGroup,
  UpdateSkillGroup,
} from '@openhotline/protocol';
import { type Storage, StorageConflict } from '../adapters/storage/storage.js';
import { HotlineError } from '../errors.js';
import type { AgentService } from './agent-service.js';
import type { Clock } from './clock.js';
import { hashSecret } from './token-service.js';

export const DEFAULT_INSTANCE_SETTINGS: InstanceSettings = {
  acwSeconds: 1,
  readyOnCheckin: true,
  channelGraceSeconds: 60,
  ringTimeoutSeconds: 20,
  queueTimeoutSeconds: 300,
  maxQueueLength: 100,
  outboundNoAnswerSeconds: 45,
};

/** An instance's settings with defaults for keys added after it was stored (settings are a JSON column). */
export function settingsOf(instance: Instance | undefined): InstanceSettings {
  return { ...DEFAULT_INSTANCE_SETTINGS, ...instance?.settings };
}

export interface DirectoryDeps {
  readonly storage: Storage;
  readonly clock: Clock;
  readonly agents: AgentService;
  /** Closes the live channels of an agent that was removed or disabled. */
  readonly disconnectAgent: (instanceId: string, agentId: string, error: 'AgentDisabled' | 'AgentNotFound') => void;
}

/**
 * The configuration of instances: agents, skill groups, hotline numbers, caller-ID number groups, break
 * reasons and API clients. It checks references before writing (an agent's groups must exist, a number must
 * route to a group), turns storage conflicts into catalogue errors, and checks agents out when they are removed
 * or disabled so that nobody keeps taking calls from a deleted seat.
 */
export class DirectoryService {
  constructor(private readonly deps: DirectoryDeps) {}

  // ---------- instances ----------
  listInstances(): Instance[] {
    return this.deps.storage.instances.list().map((instance) => ({ ...instance, settings: settingsOf(instance) }));
  }
  getInstance(id: string): Instance {
    const instance = this.deps.storage.instances.get(id);
    if (!instance) throw new HotlineError('InstanceNotFound', `No instance "${id}".`);
    return { ...instance, settings: settingsOf(instance) };
  }
  createInstance(input: CreateInstance): Instance {
    return conflictsAsErrors(() =>
      this.deps.storage.instances.create({
        id: input.id,
        name: input.name,
        settings: { ...DEFAULT_INSTANCE_SETTINGS, ...input.settings },
        createdAt: this.nowIso(),
      }),
    );
  }
  updateInstance(id: string, patch: UpdateInstance): Instance {
    const current = this.getInstance(id);
    const updated = this.deps.storage.instances.update(id, {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.settings ? { settings: { ...current.settings, ...patch.settings } } : {}),
    });
    if (!updated) throw new HotlineError('InstanceNotFound', `No instance "${id}".`);
    return updated;
  }
  removeInstance(id: string): void {
    this.getInstance(id);
    for (const agent of this.deps.storage.agents.list(id)) this.retireAgent(id, agent.id);
    this.deps.storage.instances.remove(id);
  }

  // ---------- agents ----------
  listAgents(instanceId: string): Agent[] {
    this.getInstance(instanceId);
    return this.deps.storage.agents.list(instanceId);
  }
  getAgent(instanceId: string, id: string): Agent {
    this.getInstance(instanceId);
    const agent = this.deps.storage.agents.get(instanceId, id);
    if (!agent) throw new HotlineError('AgentNotFound', `No agent "${id}" in instance "${instanceId}".`);
    return agent;
  }
  createAgent(instanceId: string, input: CreateAgent): Agent {
    this.getInstance(instanceId);
    const skillGroupIds = input.skillGroupIds ?? [];
    const numberGroupIds = input.numberGroupIds ?? [];
    this.checkGroups(instanceId, skillGroupIds, numberGroupIds);
    return conflictsAsErrors(() =>
      this.deps.storage.agents.create({
        instanceId,
        id: input.id,
        name: input.name,
        departmentId: input.departmentId ?? '',
        skillGroupIds,
        numberGroupIds,
        canSeeFullNumbers: input.canSeeFullNumbers ?? false,
        acwSeconds: input.acwSeconds ?? null,
        enabled: input.enabled ?? true,
        createdAt: this.nowIso(),
      }),
    );
  }
  updateAgent(instanceId: string, id: string, patch: UpdateAgent): Agent {
    this.getAgent(instanceId, id);
    this.checkGroups(instanceId, patch.skillGroupIds ?? [], patch.numberGroupIds ?? []);
    const updated = this.deps.storage.agents.update(instanceId, id, patch);
    if (!updated) throw new HotlineError('AgentNotFound', `No agent "${id}" in instance "${instanceId}".`);
    if (patch.enabled === false) {
      this.deps.agents.forceCheckout(instanceId, id, 'agent-disabled');
      this.deps.disconnectAgent(instanceId, id, 'AgentDisabled');
    }
    return updated;
  }
  removeAgent(instanceId: string, id: string): void {
    this.getAgent(instanceId, id);
    this.retireAgent(instanceId, id);
    this.deps.storage.agents.remove(instanceId, id);
  }

  // ---------- skill groups ----------
  listSkillGroups(instanceId: string): SkillGroup[] {
    this.getInstance(instanceId);
    return this.deps.storage.skillGroups.list(instanceId);
  }
  getSkillGroup(instanceId: string, id: string): SkillGroup {
    this.getInstance(instanceId);
    const group = this.deps.storage.skillGroups.get(instanceId, id);
    if (!group) throw new HotlineError('SkillGroupNotFound', `No skill group "${id}" in instance "${instanceId}".`);
    return group;
  }
  createSkillGroup(instanceId: string, input: CreateSkillGroup): SkillGroup {
    this.getInstance(instanceId);
    this.checkOverflow(instanceId, input.id, input.queue);
    return conflictsAsErrors(() =>
      this.deps.storage.skillGroups.create({
        instanceId,
        id: input.id,
        name: input.name,
        queue: input.queue ?? {},
        createdAt: this.nowIso(),
      }),
    );
  }
  updateSkillGroup(instanceId: string, id: string, patch: UpdateSkillGroup): SkillGroup {
    this.getSkillGroup(instanceId, id);
    this.checkOverflow(instanceId, id, patch.queue);
    const updated = this.deps.storage.skillGroups.update(instanceId, id, patch);
    if (!updated) throw new HotlineError('SkillGroupNotFound', `No skill group "${id}".`);
    return updated;
  }
  removeSkillGroup(instanceId: string, id: string): void {
    this.getSkillGroup(instanceId, id);
    conflictsAsErrors(() => this.deps.storage.skillGroups.remove(instanceId, id));
  }

  // ---------- hotline numbers ----------
  listHotlineNumbers(instanceId: string): HotlineNumber[] {
    this.getInstance(instanceId);
    return this.deps.storage.hotlineNumbers.list(instanceId);
  }
  getHotlineNumber(instanceId: string, number: string): HotlineNumber {
    this.getInstance(instanceId);
    const found = this.deps.storage.hotlineNumbers.get(instanceId, number);
    if (!found) throw new HotlineError('HotlineNumberNotFound', `No hotline number "${number}".`);
    return found;
  }
  createHotlineNumber(instanceId: string, input: CreateHotlineNumber): HotlineNumber {
    this.getSkillGroup(instanceId, input.skillGroupId);
    return conflictsAsErrors(() =>
      this.deps.storage.hotlineNumbers.create({ instanceId, ...input, createdAt: this.nowIso() }),
    );
  }
  updateHotlineNumber(instanceId: string, number: string, patch: UpdateHotlineNumber): HotlineNumber {
    this.getHotlineNumber(instanceId, number);
    if (patch.skillGroupId !== undefined) this.getSkillGroup(instanceId, patch.skillGroupId);
    const updated = this.deps.storage.hotlineNumbers.update(instanceId, number, patch);
    if (!updated) throw new HotlineError('HotlineNumberNotFound', `No hotline number "${number}".`);
    return updated;
  }
  removeHotlineNumber(instanceId: string, number: string): void {
    this.getHotlineNumber(instanceId, number);
    this.deps.storage.hotlineNumbers.remove(instanceId, number);
  }

  // ---------- caller-ID number groups ----------
  listNumberGroups(instanceId: string): NumberGroup[] {
    this.getInstance(instanceId);
    return this.deps.storage.numberGroups.list(instanceId);
  }
  getNumberGroup(instanceId: string, id: string): NumberGroup {
    this.getInstance(instanceId);
    const group = this.deps.storage.numberGroups.get(instanceId, id);
    if (!group) throw new HotlineError('NumberGroupNotFound', `No number group "${id}" in instance "${instanceId}".`);
    return group;
  }
  createNumberGroup(instanceId: string, input: CreateNumberGroup): NumberGroup {
    this.getInstance(instanceId);
    return conflictsAsErrors(() =>
      this.deps.storage.numberGroups.create({ instanceId, ...input, createdAt: this.nowIso() }),
    );
  }
  updateNumberGroup(instanceId: string, id: string, patch: UpdateNumberGroup): NumberGroup {
    this.getNumberGroup(instanceId, id);
    const updated = this.deps.storage.numberGroups.update(instanceId, id, patch);
    if (!updated) throw new HotlineError('NumberGroupNotFound', `No number group "${id}".`);
    return updated;
  }
  removeNumberGroup(instanceId: string, id: string): void {
    this.getNumberGroup(instanceId, id);
    this.deps.storage.numberGroups.remove(instanceId, id);
  }

  // ---------- break reasons ----------
  listBreakReasons(instanceId: string): BreakReason[] {
    this.getInstance(instanceId);
    return this.deps.storage.breakReasons.list(instanceId);
  }
  getBreakReason(instanceId: string, code: string): BreakReason {
    this.getInstance(instanceId);
    const reason = this.deps.storage.breakReasons.get(instanceId, code);
    if (!reason) throw new HotlineError('BreakReasonNotFound', `No break reason "${code}".`);
    return reason;
  }
  createBreakReason(instanceId: string, input: CreateBreakReason): BreakReason {
    this.getInstance(instanceId);
    return conflictsAsErrors(() =>
      this.deps.storage.breakReasons.create({ instanceId, ...input, system: false, createdAt: this.nowIso() }),
    );
  }
  updateBreakReason(instanceId: string, code: string, patch: UpdateBreakReason): BreakReason {
    this.getBreakReason(instanceId, code);
    const updated = this.deps.storage.breakReasons.update(instanceId, code, patch);
    if (!updated) throw new HotlineError('BreakReasonNotFound', `No break reason "${code}".`);
    return updated;
  }
  removeBreakReason(instanceId: string, code: string): void {
    this.getBreakReason(instanceId, code);
    this.deps.storage.breakReasons.remove(instanceId, code);
  }

  // ---------- API clients ----------
  listApiClients(instanceId: string): ApiClient[] {
    this.getInstance(instanceId);
    return this.deps.storage.apiClients.list(instanceId).map(({ secretHash: _hidden, ...client }) => client);
  }
  createApiClient(instanceId: string, input: CreateApiClient): CreatedApiClient {
    this.getInstance(instanceId);
    const clientId = input.clientId ?? `client_${randomBytes(8).toString('hex')}`;
    const clientSecret = input.clientSecret ?? randomBytes(24).toString('base64url');
    const stored = conflictsAsErrors(() =>
      this.deps.storage.apiClients.create({
        instanceId,
        clientId,
        name: input.name,
        secretHash: hashSecret(clientSecret),
        createdAt: this.nowIso(),
      }),
    );
    return { instanceId, clientId: stored.clientId, name: stored.name, createdAt: stored.createdAt, clientSecret };
  }
  removeApiClient(instanceId: string, clientId: string): void {
    this.getInstance(instanceId);
    const client = this.deps.storage.apiClients.getByClientId(clientId);
    if (!client || client.instanceId !== instanceId) {
      throw new HotlineError('ApiClientNotFound', `No API client "${clientId}" in instance "${instanceId}".`);
    }
    this.deps.storage.apiClients.remove(instanceId, clientId);
  }

  /** An overflow must name another existing group of the same instance. */
  private checkOverflow(instanceId: string, groupId: string, queue: QueueSettings | undefined): void {
    const overflow = queue?.overflow;
    if (overflow?.action !== 'group') return;
    if (overflow.skillGroupId === groupId) {
      throw new HotlineError('ValidationFailed', 'A skill group cannot overflow into itself.', {
        skillGroupId: groupId,
      });
    }
    this.getSkillGroup(instanceId, overflow.skillGroupId);
  }

  private checkGroups(instanceId: string, skillGroupIds: readonly string[], numberGroupIds: readonly string[]): void {
    for (const id of skillGroupIds) this.getSkillGroup(instanceId, id);
    for (const id of numberGroupIds) this.getNumberGroup(instanceId, id);
  }

  /** Checks the agent out, closes its channels and forgets its live state (before its rows go). */
  private retireAgent(instanceId: string, agentId: string): void {
    this.deps.agents.forceCheckout(instanceId, agentId, 'agent-removed');
    this.deps.disconnectAgent(instanceId, agentId, 'AgentNotFound');
    this.deps.agents.forget(instanceId, agentId);
  }

  private nowIso(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }
}

function conflictsAsErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof StorageConflict) throw new HotlineError(error.kind, error.message);
    throw error;
  }
}
