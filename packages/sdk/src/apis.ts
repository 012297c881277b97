import type { TransferTarget } from '@openhotline/protocol';
import { type DoCallOutOptions, type NotifyListener, type PhoneNotify, SoftPhone } from './softphone';

/**
 * The guide's static APIs, each acting on SoftPhone.getInstance(). Nothing here runs at import time: the
 * singleton is created on the first call.
 */

const phone = () => SoftPhone.getInstance();

/**
 * The guide's takeWebSocketNotify(). One of its examples uses `takeWebSocketNotify.on(...)` without calling it,
 * so the function itself also carries `on`, `off`, `listenerContainer` and `socket`.
 */
export type TakeWebSocketNotify = (() => PhoneNotify) & PhoneNotify;

function makeTakeWebSocketNotify(): TakeWebSocketNotify {
  const take = () => phone().takeWebSocketNotify();
  return Object.defineProperties(take, {
    on: { value: (scene: string, cb: NotifyListener) => take().on(scene, cb) },
    off: { value: (scene: string, cb: NotifyListener) => take().off(scene, cb) },
    listenerContainer: { get: () => take().listenerContainer },
    socket: { get: () => take().socket },
  }) as TakeWebSocketNotify;
}

export const takeWebSocketNotify: TakeWebSocketNotify = /* @__PURE__ */ makeTakeWebSocketNotify();

export const APIs = {
  // ---- the guide's nine
  /** Mounts getUIComponent()'s component into an element. */
  renderComponent: (component: unknown, element: unknown) => phone().renderComponent(component, element),
  doCallOut: (options: DoCallOutOptions) => phone().doCallOut(options),
  /** @deprecated The guide's old name of agentCheckin. */
  startWork: () => phone().agentCheckin(),
  agentCheckin: (options?: { readonly skillGroupIds?: readonly string[] }) => phone().agentCheckin(options),
  agentCheckout: () => phone().agentCheckout(),
  getAgentBarStatus: () => phone().getAgentBarStatus(),
  callAnswer: (connId?: string, jobId?: string, acid?: string, aid?: string) =>
    phone().callAnswer(connId, jobId, acid, aid),
  callHangup: (connId?: string, jobId?: string, acid?: string, aid?: string) =>
    phone().callHangup(connId, jobId, acid, aid),
  takeWebSocketNotify,
  // ---- beyond the guide: everything the dial bar does, headless
  agentReady: () => phone().agentReady(),
  agentBreak: (reasonCode?: string) => phone().agentBreak(reasonCode),
  callHold: (connId?: string) => phone().callHold(connId),
  callRetrieve: (connId?: string) => phone().callRetrieve(connId),
  callMute: (muted?: boolean, connId?: string) => phone().callMute(muted, connId),
  sendDtmf: (digits: string, connId?: string) => phone().sendDtmf(digits, connId),
  callTransfer: (target: TransferTarget | string, connId?: string) => phone().callTransfer(target, connId),
  callConsult: (target: TransferTarget | string, connId?: string) => phone().callConsult(target, connId),
  consultComplete: (connId?: string) => phone().consultComplete(connId),
  consultCancel: (connId?: string) => phone().consultCancel(connId),
  callConference: (connId?: string) => phone().callConference(connId),
  callInternal: (agentId: string) => phone().callInternal(agentId),
  getAgentInfo: () => phone().getAgentInfo(),
  getCalls: () => phone().getCalls(),
  getTransferTargets: () => phone().getTransferTargets(),
  getCurrentCall: () => phone().getCurrentCall(),
  checkEnvironment: () => phone().checkEnvironment(),
  // ---- audio devices (with the media session of the full build)
  getAudioDevices: () => phone().getAudioDevices(),
  setAudioInput: (deviceId: string) => phone().setAudioInput(deviceId),
  setAudioOutput: (deviceId: string) => phone().setAudioOutput(deviceId),
};
