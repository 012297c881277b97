import type { Agent, InstanceSettings } from '@openhotline/protocol';

/** Records the storage tests create: one place for what every test needs and none cares about. */

export const CREATED = '2024-05-01T08:00:00.000Z';

export const SETTINGS: InstanceSettings = {
  acwSeconds: 10,
  readyOnCheckin: true,
  channelGraceSeconds: 30,
  ringTimeoutSeconds: 20,
  queueTimeoutSeconds: 300,
  maxQueueLength: 100,
  outboundNoAnswerSeconds: 45,
};

/** An enabled agent named `Agent <id>` with no groups; `overrides` sets what a test is about. */
export function agentRecord(instanceId: string, id: string, overrides: Partial<Agent> = {}): Agent {
  return {
    instanceId,
    id,
    name: `Agent ${id}`,
    departmentId: 'sales',
    skillGroupIds: [],
    numberGroupIds: [],
    canSeeFullNumbers: false,
    acwSeconds: null,
    enabled: true,
    createdAt: CREATED,
    ...overrides,
  };
}
