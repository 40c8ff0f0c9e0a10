import { FormatRegistry } from '@sinclair/typebox';
import { isIPv4, isIPv6 } from 'node:net';

// TypeBox validates `format` only for registered formats; DNS schemas use these two.
if (!FormatRegistry.Has('ipv4')) FormatRegistry.Set('ipv4', (v) => isIPv4(v));
if (!FormatRegistry.Has('ipv6')) FormatRegistry.Set('ipv6', (v) => isIPv6(v));

/** Formats registered by importing this module. */
export const REGISTERED_FORMATS = Object.freeze(['ipv4', 'ipv6'] as const);
