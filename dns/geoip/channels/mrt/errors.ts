/** Stable codes of MRT decoding failures; each costs one record, and reading goes on with the next. */
export type MrtDecodeErrorCode =
  | 'MRT_ERR_TRUNCATED'       // the record (or the file) ends inside a field
  | 'MRT_ERR_TOO_LONG'        // the record is longer than its type allows (BGP4MP and TABLE_DUMP fit in 64 KiB) or than the reader's bound
  | 'MRT_ERR_PEER_INDEX'      // a RIB entry names a peer the PEER_INDEX_TABLE does not have, or there is no table yet
  | 'MRT_ERR_ATTRIBUTES'      // the path attributes or NLRI inside the record are malformed (the cause says how)
  | 'MRT_ERR_BAD_FIELD'       // a field holds a value its type does not allow (an address family, a BGP marker)
  | 'MRT_ERR_COMPRESSION';    // the gzip or bzip2 stream is corrupt

/** Thrown by the MRT decoder and reported by the reader for one record. */
export class MrtDecodeError extends Error {
  override readonly name = 'MrtDecodeError';
  /** A stable code; callers branch on it, never on the message. */
  readonly code: MrtDecodeErrorCode;
  /** Byte offset in the decompressed stream (the record's start, or the field's where known). */
  readonly offset: number;

  constructor(code: MrtDecodeErrorCode, offset: number, message: string, options?: { cause?: unknown }) {
    super(`${message} (at byte ${offset})`, options);
    this.code = code;
    this.offset = offset;
  }
}

/** True when `e` is an `MrtDecodeError`. */
export function isMrtDecodeError(e: unknown): e is MrtDecodeError {
  return e instanceof MrtDecodeError;
}
