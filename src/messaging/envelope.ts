import type { RecordedEvent } from '../eventstore/port';
import { EVENT_CATALOGUE, isPublishedEventType } from '../events/event-schemas';

/** The message body on NATS (docs/contract.md, "Events"); positions and revisions are decimal strings. */
export interface EventEnvelope {
  readonly id: string;
  readonly type: string;
  readonly stream: string;
  readonly revision: string;
  readonly position: string;
  readonly recordedAt: string;
  readonly correlationId: string;
  readonly causationId: string;
  readonly prevHash: string;
  readonly hash: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export const toEnvelope = (event: RecordedEvent): EventEnvelope => ({
  id: event.eventId,
  type: event.type,
  stream: event.streamId,
  revision: event.revision.toString(),
  position: event.position.toString(),
  recordedAt: event.recordedAt,
  correlationId: event.metadata.correlationId,
  causationId: event.metadata.causationId,
  prevHash: event.prevHash,
  hash: event.hash,
  data: event.data,
});

/**
 * The aggregate token of a subject, from the catalogue: the relay publishes only events that decode,
 * so every type it publishes is there.
 */
export function aggregateOf(event: Pick<RecordedEvent, 'type'>): string {
  if (!isPublishedEventType(event.type)) throw new Error(`event type ${event.type} is not in the catalogue`);
  return EVENT_CATALOGUE[event.type].aggregate;
}

/** `<prefix>.<aggregate>.<EventType>`, e.g. `ledger.transfer.TransferPosted`. */
export const subjectFor = (prefix: string, event: Pick<RecordedEvent, 'type'>): string =>
  `${prefix}.${aggregateOf(event)}.${event.type}`;

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The W3C trace context of an event: the request's own `traceparent` when it came with one, so a
 * consumer's spans join the trace that posted the transfer; otherwise one derived from the event
 * id, the same on every re-publish (trace id: the event id's 128 bits; span id: its last 64).
 */
export function traceparentFor(event: Pick<RecordedEvent, 'eventId' | 'metadata'>): string {
  const given = event.metadata.traceparent;
  if (given && TRACEPARENT.test(given) && !given.startsWith('00-00000000000000000000000000000000')) return given;
  const traceId = event.eventId.replace(/-/g, '').toLowerCase();
  return `00-${traceId}-${traceId.slice(16)}-01`;
}

/** CloudEvents 1.0 attributes in binary content mode (`ce-*` headers; the body is the envelope). */
export function cloudEventHeaders(event: RecordedEvent): Array<[string, string]> {
  return [
    ['ce-specversion', '1.0'],
    ['ce-id', event.eventId],
    ['ce-source', '/ledger'],
    ['ce-type', `ledger.${aggregateOf(event)}.${event.type}`],
    ['ce-subject', event.streamId],
    ['ce-time', event.recordedAt],
    ['ce-sequence', event.position.toString()],
    ['ce-correlationid', event.metadata.correlationId],
    ['ce-causationid', event.metadata.causationId],
    ['content-type', 'application/json'],
  ];
}
