/**
 * The BGP finite state machine (RFC 4271 section 8), pure: `transition(state, event)` gives the
 * next state and the actions the session must perform, in order. Timers, sockets and messages
 * live in `session.ts`; this module only decides. Events and actions are the RFC's (section 8.1),
 * reduced to what a speaker that never announces routes needs: no delay-open, no damping.
 */
import { CeaseSubcode, ErrorCode } from './errors';

/** The six states of RFC 4271 section 8.2.2. */
export type BgpState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

/** FSM events (RFC 4271 section 8.1, names shortened). */
export type FsmEvent =
  | { readonly type: 'ManualStart' }            // Event 1: start, connecting actively
  | { readonly type: 'ManualStartPassive' }     // Event 4: start, waiting for the peer to connect
  | { readonly type: 'ManualStop' }             // Event 2
  | { readonly type: 'ConnectRetryTimerExpires' } // Event 9
  | { readonly type: 'HoldTimerExpires' }       // Event 10
  | { readonly type: 'KeepaliveTimerExpires' }  // Event 11
  | { readonly type: 'TcpConnected' }           // Events 16/17
  | { readonly type: 'TcpFails' }               // Event 18
  | { readonly type: 'OpenReceived' }           // Event 19: a valid OPEN
  | { readonly type: 'MessageError'; readonly code: number; readonly subcode: number; readonly data?: Uint8Array } // Events 21, 22, 28
  | { readonly type: 'NotificationReceived' }   // Events 24, 25
  | { readonly type: 'KeepaliveReceived' }      // Event 26
  | { readonly type: 'UpdateReceived' }         // Event 27
  | { readonly type: 'RouteRefreshReceived' }
  | { readonly type: 'Cease'; readonly subcode: number }; // a local reason to end the session (max prefixes, shutdown)

/** What the session must do. */
export type FsmAction =
  | { readonly type: 'connect' }
  | { readonly type: 'dropConnection' }
  | { readonly type: 'sendOpen' }
  | { readonly type: 'sendKeepalive' }
  | { readonly type: 'sendNotification'; readonly code: number; readonly subcode: number; readonly data?: Uint8Array }
  | { readonly type: 'startConnectRetryTimer' }
  | { readonly type: 'stopConnectRetryTimer' }
  /** `large`: the 4-minute hold time of OpenSent (RFC 4271 section 8.2.2); else the negotiated one. */
  | { readonly type: 'startHoldTimer'; readonly large: boolean }
  | { readonly type: 'startKeepaliveTimer' }
  | { readonly type: 'stopTimers' }
  | { readonly type: 'established' }
  /** The session left OpenSent/OpenConfirm/Established (or a connection attempt ended); `graceful`: no NOTIFICATION either way, so graceful restart applies (RFC 4724 section 4.2). */
  | { readonly type: 'sessionDown'; readonly reason: string; readonly graceful: boolean };

/** The outcome of one event. */
export interface Transition {
  readonly state: BgpState;
  readonly actions: readonly FsmAction[];
}

/** Finite State Machine Error subcodes (RFC 6608 section 3): an unexpected message in this state. */
const FSM_SUBCODE: Partial<Record<BgpState, number>> = { OpenSent: 1, OpenConfirm: 2, Established: 3 };

function down(reason: string, graceful: boolean, notify?: { code: number; subcode: number; data?: Uint8Array }): Transition {
  const actions: FsmAction[] = [];
  if (notify) actions.push({ type: 'sendNotification', code: notify.code, subcode: notify.subcode, data: notify.data });
  actions.push({ type: 'stopTimers' }, { type: 'dropConnection' }, { type: 'sessionDown', reason, graceful });
  return { state: 'Idle', actions };
}

const stay = (state: BgpState, actions: readonly FsmAction[] = []): Transition => ({ state, actions });

/** The next state and actions for `event` in `state` (RFC 4271 section 8.2.2). */
export function transition(state: BgpState, event: FsmEvent): Transition {
  const e = event;
  if (e.type === 'ManualStop') {
    if (state === 'Idle') return stay('Idle');
    const open = state === 'OpenSent' || state === 'OpenConfirm' || state === 'Established';
    return down('stopped', false, open ? { code: ErrorCode.Cease, subcode: CeaseSubcode.AdministrativeShutdown } : undefined);
  }
  switch (state) {
    case 'Idle':
      if (e.type === 'ManualStart') return stay('Connect', [{ type: 'startConnectRetryTimer' }, { type: 'connect' }]);
      if (e.type === 'ManualStartPassive') return stay('Active');
      return stay('Idle'); // RFC 4271 section 8.2.2: Idle ignores every other event.
    case 'Connect':
    case 'Active':
      switch (e.type) {
        case 'TcpConnected':
          return stay('OpenSent', [{ type: 'stopConnectRetryTimer' }, { type: 'sendOpen' }, { type: 'startHoldTimer', large: true }]);
        case 'ConnectRetryTimerExpires':
          return stay('Connect', [{ type: 'dropConnection' }, { type: 'startConnectRetryTimer' }, { type: 'connect' }]);
        case 'TcpFails':
          return stay(state === 'Connect' ? 'Active' : state, [{ type: 'dropConnection' }]);
        case 'ManualStart': case 'ManualStartPassive': case 'KeepaliveTimerExpires':
          return stay(state);
        default:
          return down(`unexpected ${e.type} in ${state}`, false);
      }
    case 'OpenSent':
    case 'OpenConfirm':
    case 'Established':
      switch (e.type) {
        case 'ManualStart': case 'ManualStartPassive': case 'ConnectRetryTimerExpires': case 'TcpConnected':
          return stay(state);
        case 'HoldTimerExpires':
          return down('hold timer expired', false, { code: ErrorCode.HoldTimerExpired, subcode: 0 });
        case 'TcpFails':
          // RFC 4271 section 8.2.2: OpenSent goes back to Active and waits; the others to Idle.
          if (state === 'OpenSent') return { state: 'Active', actions: [{ type: 'stopTimers' }, { type: 'dropConnection' }, { type: 'sessionDown', reason: 'connection closed in OpenSent', graceful: false }] };
          return down('connection closed by the peer', state === 'Established');
        case 'MessageError':
          return down(`sent NOTIFICATION ${e.code}/${e.subcode}`, false, { code: e.code, subcode: e.subcode, data: e.data });
        case 'NotificationReceived':
          return down('NOTIFICATION received', false);
        case 'Cease':
          return down(`Cease ${e.subcode}`, false, { code: ErrorCode.Cease, subcode: e.subcode });
        case 'KeepaliveTimerExpires':
          if (state === 'OpenSent') return stay(state);
          return stay(state, [{ type: 'sendKeepalive' }, { type: 'startKeepaliveTimer' }]);
        case 'OpenReceived':
          if (state === 'OpenSent') {
            return stay('OpenConfirm', [{ type: 'sendKeepalive' }, { type: 'startHoldTimer', large: false }, { type: 'startKeepaliveTimer' }]);
          }
          break;
        case 'KeepaliveReceived':
          if (state === 'OpenConfirm') return stay('Established', [{ type: 'startHoldTimer', large: false }, { type: 'established' }]);
          if (state === 'Established') return stay(state, [{ type: 'startHoldTimer', large: false }]);
          break;
        case 'UpdateReceived': case 'RouteRefreshReceived':
          if (state === 'Established') return stay(state, [{ type: 'startHoldTimer', large: false }]);
          break;
      }
      return down(`unexpected ${e.type} in ${state}`, false, { code: ErrorCode.FiniteStateMachine, subcode: FSM_SUBCODE[state] ?? 0 });
  }
}
