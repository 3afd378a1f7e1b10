import { hash } from 'node:crypto';
import { canonicalJson } from '../eventstore/hash-chain';

/**
 * The fingerprint of a command's body (after defaults), kept in its events' metadata: the same
 * id with the same fingerprint is a retry, with another one a conflict.
 */
export const commandHash = (kind: string, body: unknown): string =>
  // One-shot: the same bytes as a Hash object fed kind, '\n' and the body, without the object.
  hash('sha256', `${kind}\n${canonicalJson(body)}`, 'hex');
