import { createHash } from 'node:crypto';
import { canonicalJson } from '../eventstore/hash-chain';

/**
 * The fingerprint of a command's body (after defaults), kept in its events' metadata: the same
 * id with the same fingerprint is a retry, with another one a conflict.
 */
export const commandHash = (kind: string, body: unknown): string =>
  createHash('sha256').update(kind).update('\n').update(canonicalJson(body)).digest('hex');
