import { createHash } from 'node:crypto';

/** The hash before the first event of the log. */
export const GENESIS_HASH = '0'.repeat(64);

/** Characters JSON.stringify escapes in a string (surrogates: it escapes the lone ones). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what it looks for.
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string as JSON.stringify writes it; most need no escape, and quoting them is cheaper. */
const jsonString = (text: string): string => (ESCAPED.test(text) ? JSON.stringify(text) : `"${text}"`);

/**
 * Canonical JSON: object keys sorted by UTF-16 code unit, no whitespace, `undefined` members
 * left out, strings and numbers as JSON.stringify writes them. Events hold no floats except
 * scores, whose shortest round-trip form JSON.stringify writes the same way every time.
 */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'string') return jsonString(value);
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') throw new TypeError('bigint is not JSON: write it as a decimal string');
    return JSON.stringify(value);
  }
  // Built by concatenation, without the intermediate arrays of filter, map and join: this runs
  // for every command's hash and every event's data and metadata (ADR 0027, "Less service CPU a transfer").
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i++) text += (i === 0 ? '' : ',') + canonicalJson(value[i] ?? null);
    return `${text}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let text = '';
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    text += `${text === '' ? '{' : ','}${jsonString(key)}:${canonicalJson(member)}`;
  }
  return text === '' ? '{}' : `${text}}`;
}

/** The fields of an event the chain covers: everything but the hashes themselves. */
export interface ChainedFields {
  readonly position: bigint;
  readonly eventId: string;
  readonly streamId: string;
  readonly revision: bigint;
  readonly type: string;
  readonly recordedAt: string;
  readonly data: unknown;
  readonly metadata: unknown;
}

/** An event as the store keeps it: data and metadata as the exact canonical JSON text that was hashed. */
export interface StoredChainLink extends Omit<ChainedFields, 'data' | 'metadata'> {
  readonly dataJson: string;
  readonly metadataJson: string;
  readonly prevHash: string;
  readonly hash: string;
}

/**
 * hash = SHA-256( prevHash as 32 bytes ‖ UTF-8 of canonicalJson({position, eventId, streamId,
 * revision, type, recordedAt, data, metadata}) ), position and revision as decimal strings.
 *
 * Spelled out, with keys in canonical order and D, M the canonical JSON of data and metadata:
 * `{"data":D,"eventId":"…","metadata":M,"position":"…","recordedAt":"…","revision":"…","streamId":"…","type":"…"}`
 * (strings written as JSON.stringify writes them). An auditor can recompute it with any SHA-256.
 */
export function eventHash(prevHashHex: string, event: ChainedFields): string {
  return chainHash(prevHashHex, event, canonicalJson(event.data), canonicalJson(event.metadata));
}

/**
 * The same hash from the canonical texts of data and metadata, which the writer has already
 * built to store them (and the store keeps verbatim): the envelope's keys in canonical order are
 * data, eventId, metadata, position, recordedAt, revision, streamId, type.
 */
export function chainHash(
  prevHashHex: string,
  event: Omit<ChainedFields, 'data' | 'metadata'>,
  dataJson: string,
  metadataJson: string,
): string {
  return createHash('sha256')
    .update(Buffer.from(prevHashHex, 'hex'))
    .update(canonicalEventText(event, dataJson, metadataJson))
    .digest('hex');
}

/**
 * The canonical bytes of an event (as UTF-8): what the chain hashes after the previous hash, and
 * the leaf of the Merkle tree over the log (ADR 0021). One definition for both.
 */
export function canonicalEventText(
  event: Omit<ChainedFields, 'data' | 'metadata'>,
  dataJson: string,
  metadataJson: string,
): string {
  return (
    `{"data":${dataJson},"eventId":${JSON.stringify(event.eventId)},"metadata":${metadataJson},` +
    `"position":"${event.position}","recordedAt":${JSON.stringify(event.recordedAt)},` +
    `"revision":"${event.revision}","streamId":${JSON.stringify(event.streamId)},"type":${JSON.stringify(event.type)}}`
  );
}

/** The signature of the function that chains events, so a benchmark can swap it for a stub. */
export type ChainHasher = typeof chainHash;

/**
 * The chain of a store that learns an event's position only once it has committed it
 * (EventStoreDB, ADR 0007): the same hash over every field but `position`. The order of the log is
 * still covered, by `prevHash`.
 */
export function eventHashWithoutPosition(prevHashHex: string, event: Omit<ChainedFields, 'position'>): string {
  return createHash('sha256')
    .update(Buffer.from(prevHashHex, 'hex'))
    .update(
      canonicalJson({
        eventId: event.eventId,
        streamId: event.streamId,
        revision: event.revision.toString(),
        type: event.type,
        recordedAt: event.recordedAt,
        data: event.data,
        metadata: event.metadata,
      }),
    )
    .digest('hex');
}
