/** The live BGP channel: a BGP-4 speaker that peers with routers and learns (never announces) routes. */
export { BgpChannel, type BgpChannelOptions } from './peers';
export { BgpSettingsSchema, BgpPeerSchema, loadBgpSettings, type BgpSettings, type BgpPeerSettings } from './settings';
export { BgpMessageError, BgpError, type BgpErrorCode, ErrorCode, CeaseSubcode, OpenSubcode, UpdateSubcode, HeaderSubcode, describeNotification } from './errors';
export type { SessionStatus, Negotiated } from './session';
export type { RibRoute } from './rib';
export {
  decodeMessage, encodeMessage, messageLength, MessageType, CapabilityCode,
  type BgpMessage, type OpenMessage, type UpdateMessage, type NotificationMessage, type RouteRefreshMessage, type Capability,
} from './codec';
export { decodeUpdate, encodeUpdate, endOfRib, type DecodedUpdate, type Nlri, type UpdateContext } from './update';
export { AFI_IPV4, AFI_IPV6, SAFI_UNICAST, AS_TRANS } from './attributes';
export { transition, type BgpState, type FsmEvent, type FsmAction } from './fsm';
