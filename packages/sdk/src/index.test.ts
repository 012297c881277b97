import {
  EnumWSEventType as ProtocolCodes,
  EnumEventName as ProtocolEvents,
  AgentBarStatus as ProtocolStatus,
} from '@openhotline/protocol';
import { describe, expect, it } from 'vitest';
import * as SDK from './index';

describe('the public enums', () => {
  it('are the guide enums, value for value', () => {
    expect({ ...SDK.EnumEventName }).toEqual({ ...ProtocolEvents });
    expect(Object.keys(SDK.EnumEventName)).toHaveLength(16);
    expect(SDK.EnumEventName['actionError.tokenExpired']).toBe('actionError.tokenExpired');
    expect(SDK.EnumWSEventType).toBe(ProtocolCodes);
    expect(Object.keys(SDK.EnumWSEventType)).toHaveLength(21);
    expect(SDK.AgentBarStatus).toBe(ProtocolStatus);
    expect(SDK.AgentBarStatus.AgentCallConferenceWaitAnswer).toBe(16);
    expect((SDK.AgentBarStatus as Record<string, unknown>)['15']).toBeUndefined();
    expect({ ...SDK.EnumLocale }).toEqual({ en: 'en', 'zh-CN': 'zh-CN' });
  });

  it('let EnumEventName.AgentRinging read as the hotline code, as the guide demos use it', () => {
    const loose = SDK.EnumEventName as unknown as Record<string, string>;
    expect(loose.AgentRinging).toBe('AgentRinging');
    expect(loose.AgentCallDialOut).toBe('AgentCallDialOut');
    expect(Object.values(SDK.EnumEventName)).not.toContain('AgentRinging');
  });

  it('exports the singleton, the nine APIs and nothing that runs at import', () => {
    expect(SDK.SoftPhone.getInstance()).toBe(SDK.SoftPhone.getInstance());
    SDK.SoftPhone.getInstance().destroy();
    expect(typeof SDK.APIs.takeWebSocketNotify.on).toBe('function');
    expect(typeof SDK.APIs.takeWebSocketNotify.off).toBe('function');
  });
});
