import type { Position } from '@kurrent/kurrentdb-client';

/**
 * EventStoreDB / KurrentDB positions in $all are pairs (commit, prepare), ordered by commit then
 * prepare, each an unsigned 64-bit log offset. The port and the API carry one bigint (a decimal
 * string at the edges), so a pair is packed as `commit · 2^64 + prepare`: lossless, and the
 * integer order is exactly the $all order. Positions are increasing but not dense (ADR 0007).
 */
const U64_MAX = (1n << 64n) - 1n;

export function encodePosition(position: Position): bigint {
  assertU64(position.commit, 'commit');
  assertU64(position.prepare, 'prepare');
  return (position.commit << 64n) | position.prepare;
}

export function decodePosition(encoded: bigint): Position {
  if (encoded < 0n || encoded > (U64_MAX << 64n) + U64_MAX) {
    throw new RangeError(`position ${encoded} is outside the range of an encoded $all position`);
  }
  return { commit: encoded >> 64n, prepare: encoded & U64_MAX };
}

function assertU64(value: bigint, name: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > U64_MAX) {
    throw new RangeError(`$all ${name} position ${String(value)} is not an unsigned 64-bit integer`);
  }
}
