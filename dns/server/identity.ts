import os from 'node:os';

/** Class CHAOS (RFC 1035 §3.2.4). */
export const CLASS_CH = 3;

/** What the server says about itself, to tell anycast instances apart (RFC 5001, RFC 4892); `false` turns one off. */
export interface IdentityOptions {
  /** NSID payload, as text. */
  readonly nsid: string | false;
  /** TXT of CHAOS `id.server.` and `hostname.bind.`. */
  readonly id: string | false;
  /** TXT of CHAOS `version.server.` and `version.bind.`. */
  readonly version: string | false;
}

/** Defaults: the host name for NSID and id.server, `Meridian GeoDNS` for version.bind. */
export function defaultIdentity(): IdentityOptions {
  return { nsid: os.hostname(), id: os.hostname(), version: 'Meridian GeoDNS' };
}

/** The TXT text a CHAOS query for `name` (normalised) gets, or undefined (REFUSED) for other names or when turned off. */
export function chaosText(identity: IdentityOptions, name: string): string | undefined {
  switch (name) {
    case 'id.server':
    case 'hostname.bind':
      return identity.id === false ? undefined : identity.id;
    case 'version.server':
    case 'version.bind':
      return identity.version === false ? undefined : identity.version;
    default:
      return undefined;
  }
}
