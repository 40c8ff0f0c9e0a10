/** Stable codes of BGP wire decoding failures (path attributes and NLRI). */
export type BgpDecodeErrorCode =
  | 'BGP_ERR_TRUNCATED'        // a field or an attribute runs past the bytes it was given
  | 'BGP_ERR_ATTR_FLAGS'       // a well-known attribute marked optional, or an optional one marked well-known
  | 'BGP_ERR_ATTR_LENGTH'      // an attribute's length does not fit its type (RFC 4271 6.3)
  | 'BGP_ERR_ATTR_DUPLICATE'   // MP_REACH_NLRI or MP_UNREACH_NLRI twice (RFC 7606 3.g)
  | 'BGP_ERR_BAD_ORIGIN'       // ORIGIN other than IGP, EGP, INCOMPLETE
  | 'BGP_ERR_BAD_AS_PATH'      // unknown segment type or a segment past its attribute
  | 'BGP_ERR_BAD_NEXT_HOP'     // a next hop of a length no address family has
  | 'BGP_ERR_BAD_PREFIX'       // a prefix length beyond its family or past its field
  | 'BGP_ERR_BAD_AFI';         // an address family the codec does not decode where one is required

/**
 * What RFC 7606 tells a BGP speaker to do with an UPDATE that fails this way: reset the session,
 * treat the UPDATE's routes as withdrawn, or drop just the attribute (RFC 7606 section 2).
 */
export type Rfc7606Action = 'session-reset' | 'treat-as-withdraw' | 'attribute-discard';

/** Thrown by every decoder in `channels/bgp` (and reused by the MRT decoder) for malformed input. */
export class BgpDecodeError extends Error {
  override readonly name = 'BgpDecodeError';
  /** A stable code; callers branch on it, never on the message. */
  readonly code: BgpDecodeErrorCode;
  /** Byte offset in the decoded buffer where decoding failed. */
  readonly offset: number;
  /** Type code of the path attribute that failed; undefined when the failure is not inside one (NLRI). */
  readonly attributeType: number | undefined;
  /** The RFC 7606 handling this failure calls for. */
  readonly action: Rfc7606Action;

  constructor(code: BgpDecodeErrorCode, offset: number, message: string,
    attributeType: number | undefined = undefined, action: Rfc7606Action = 'session-reset') {
    super(`${message} (at byte ${offset})`);
    this.code = code;
    this.offset = offset;
    this.attributeType = attributeType;
    this.action = action;
  }
}

/** True when `e` is a `BgpDecodeError`. */
export function isBgpDecodeError(e: unknown): e is BgpDecodeError {
  return e instanceof BgpDecodeError;
}
