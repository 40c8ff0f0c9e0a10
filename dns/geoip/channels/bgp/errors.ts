/**
 * BGP errors. A decode error carries the NOTIFICATION it calls for (RFC 4271 section 6), so the
 * session answers a malformed message with exactly the code, subcode and data the RFC names.
 */

/** NOTIFICATION error codes, RFC 4271 section 4.5 (7: RFC 7313). */
export const ErrorCode = {
  MessageHeader: 1,
  OpenMessage: 2,
  UpdateMessage: 3,
  HoldTimerExpired: 4,
  FiniteStateMachine: 5,
  Cease: 6,
  RouteRefresh: 7,
} as const;

/** Message Header Error subcodes, RFC 4271 section 6.1. */
export const HeaderSubcode = { ConnectionNotSynchronized: 1, BadMessageLength: 2, BadMessageType: 3 } as const;

/** OPEN Message Error subcodes, RFC 4271 section 6.2 and RFC 5492 section 5 (7). */
export const OpenSubcode = {
  UnsupportedVersionNumber: 1,
  BadPeerAs: 2,
  BadBgpIdentifier: 3,
  UnsupportedOptionalParameter: 4,
  UnacceptableHoldTime: 6,
  UnsupportedCapability: 7,
} as const;

/** UPDATE Message Error subcodes, RFC 4271 section 6.3. */
export const UpdateSubcode = {
  MalformedAttributeList: 1,
  UnrecognizedWellKnownAttribute: 2,
  MissingWellKnownAttribute: 3,
  AttributeFlagsError: 4,
  AttributeLengthError: 5,
  InvalidOriginAttribute: 6,
  InvalidNextHopAttribute: 8,
  OptionalAttributeError: 9,
  InvalidNetworkField: 10,
  MalformedAsPath: 11,
} as const;

/** Cease subcodes, RFC 4486 section 4. */
export const CeaseSubcode = {
  MaximumPrefixesReached: 1,
  AdministrativeShutdown: 2,
  PeerDeconfigured: 3,
  AdministrativeReset: 4,
  ConnectionRejected: 5,
  OtherConfigurationChange: 6,
  ConnectionCollisionResolution: 7,
  OutOfResources: 8,
} as const;

/** A BGP message (or part of one) that cannot be decoded; `code`/`subcode`/`data` form the NOTIFICATION to send. */
export class BgpMessageError extends Error {
  override readonly name = 'BgpMessageError';
  readonly code: number;
  readonly subcode: number;
  /** The NOTIFICATION's data field (RFC 4271 section 6 says what goes there for each subcode). */
  readonly data: Uint8Array;

  constructor(code: number, subcode: number, message: string, data: Uint8Array = new Uint8Array(0)) {
    super(message);
    this.code = code;
    this.subcode = subcode;
    this.data = data;
  }
}

/** Stable codes of BGP channel errors other than decoding; callers branch on these. */
export type BgpErrorCode =
  | 'BGP_BAD_SETTINGS'   // a peer's settings are inconsistent (duplicate address, bad router id)
  | 'BGP_LISTEN_FAILED'; // the passive listener could not bind

/** A BGP channel error that is not about a message's bytes. */
export class BgpError extends Error {
  override readonly name = 'BgpError';
  readonly code: BgpErrorCode;

  constructor(code: BgpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Words for a NOTIFICATION's code and subcode, for logs and health. */
export function describeNotification(code: number, subcode: number): string {
  const names: Record<number, [string, Record<number, string>]> = {
    1: ['Message Header Error', invert(HeaderSubcode)],
    2: ['OPEN Message Error', invert(OpenSubcode)],
    3: ['UPDATE Message Error', invert(UpdateSubcode)],
    4: ['Hold Timer Expired', {}],
    5: ['Finite State Machine Error', {}],
    6: ['Cease', invert(CeaseSubcode)],
    7: ['ROUTE-REFRESH Message Error', { 1: 'InvalidMessageLength' }],
  };
  const [name, subs] = names[code] ?? [`error code ${code}`, {}];
  return subcode ? `${name} / ${subs[subcode] ?? `subcode ${subcode}`}` : name;
}

function invert(o: Record<string, number>): Record<number, string> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [v, k]));
}
