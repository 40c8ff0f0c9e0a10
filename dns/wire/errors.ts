/** Stable codes of wire decoding failures. */
export type DnsDecodeErrorCode =
  | 'DNS_ERR_TRUNCATED'
  | 'DNS_ERR_BAD_POINTER'
  | 'DNS_ERR_POINTER_LOOP'
  | 'DNS_ERR_NAME_TOO_LONG'
  | 'DNS_ERR_BAD_LABEL'
  | 'DNS_ERR_BAD_RDATA'
  | 'DNS_ERR_BAD_OPTION'
  | 'DNS_ERR_TRAILING';

/** Thrown by every decoder in `dns/wire` when the input is not a well-formed message. */
export class DnsDecodeError extends Error {
  /** A stable code; callers branch on it, never on the message. */
  readonly code: DnsDecodeErrorCode;
  /** Byte offset where decoding failed. */
  readonly offset: number;

  constructor(code: DnsDecodeErrorCode, offset: number, message: string) {
    super(`${message} (at byte ${offset})`);
    this.name = 'DnsDecodeError';
    this.code = code;
    this.offset = offset;
  }
}

/** True when `e` is a `DnsDecodeError`. */
export function isDnsDecodeError(e: unknown): e is DnsDecodeError {
  return e instanceof DnsDecodeError;
}
