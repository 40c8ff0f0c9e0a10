import { FormatRegistry } from '@sinclair/typebox';
import { isIPv4, isIPv6 } from 'node:net';

// TypeBox validates `format` only for registered formats; DNS schemas use these two.
if (!FormatRegistry.Has('ipv4')) FormatRegistry.Set('ipv4', (v) => isIPv4(v));
if (!FormatRegistry.Has('ipv6')) FormatRegistry.Set('ipv6', (v) => isIPv6(v));
// RFC 3339 date-time with an explicit offset (`Z` or `+hh:mm`), as Date.parse reads it.
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v)));
}

/** Formats registered by importing this module. */
export const REGISTERED_FORMATS = Object.freeze(['ipv4', 'ipv6', 'date-time'] as const);
