import type { Hotline } from './hotline.js';

/** The demo instance's fixed API client, printed at start so a new user can get a token in one command. */
export const DEMO_CLIENT = { clientId: 'demo-client', clientSecret: 'demo-secret-change-me' } as const;
export const DEMO_INSTANCE_ID = 'demo';

/**
 * Seeds the demo instance on first run: two skill groups, three agents, a hotline number and an outbound
 * caller-ID number group, the usual break reasons and an API client. Runs only while there is no instance at
 * all, so it never touches a configured server.
 */
export function seedDemo(hotline: Hotline): boolean {
  const { directory, storage } = hotline;
  if (storage.instances.list().length > 0) return false;
  storage.transaction(() => {
    const instanceId = DEMO_INSTANCE_ID;
    directory.createInstance({ id: instanceId, name: 'OpenHotline Demo' });
    directory.createSkillGroup(instanceId, { id: 'support', name: '客服 Support' });
    directory.createSkillGroup(instanceId, { id: 'sales', name: '销售 Sales' });
    directory.createNumberGroup(instanceId, {
      id: 'outbound',
      name: '外呼号码 Outbound',
      numbers: ['02160000001', '02160000002'],
    });
    directory.createHotlineNumber(instanceId, {
      number: '4008001000',
      name: '客服热线 Hotline',
      skillGroupId: 'support',
    });
    for (const [code, zh, en] of [
      ['rest', '小休', 'Rest'],
      ['meal', '用餐', 'Meal'],
      ['meeting', '会议', 'Meeting'],
      ['training', '培训', 'Training'],
    ] as const) {
      directory.createBreakReason(instanceId, { code, label: { 'zh-CN': zh, en } });
    }
    const agents = [
      { id: '1001', name: '张伟 Zhang Wei', skillGroupIds: ['support', 'sales'], canSeeFullNumbers: true },
      { id: '1002', name: '李娜 Li Na', skillGroupIds: ['support'], canSeeFullNumbers: false },
      { id: '1003', name: '王芳 Wang Fang', skillGroupIds: ['sales'], canSeeFullNumbers: false },
    ];
    for (const agent of agents) {
      directory.createAgent(instanceId, { ...agent, departmentId: 'dept-demo', numberGroupIds: ['outbound'] });
    }
    directory.createApiClient(instanceId, { name: 'Demo business system', ...DEMO_CLIENT });
  });
  return true;
}
