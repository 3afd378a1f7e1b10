import type { z } from 'zod';
import { type DomainEvent, type DomainEventType, LEDGER_EVENT_TYPES, type LedgerEvent } from '../domain/events';
import type { RecordedEvent } from '../eventstore/port';
import { type Guard, guardOf } from './check';
import { EVENT_CATALOGUE, type PublishedEventType } from './event-schemas';

/**
 * The one way from a recorded event (the store's `type` and JSON `data`) to a domain event: every
 * reader of the log and of streams decodes through here (the write model, the projector, the relay,
 * the fraud reader, the replay), checked against the event's zod schema in the catalogue
 * (event-schemas.ts), the same schema that is published. A recorded event that does not decode is
 * an UndecodableEventError naming the event and what is wrong: never skipped, never guessed.
 *
 * A new event type: its domain type joins DomainEvent (src/domain/events.ts), its schema joins
 * EVENT_CATALOGUE, and it gets an entry in DATA and a case in decodeEvent; the compiler asks for each.
 */

/** What a decode reads of a recorded event (a replay's lean read has no stream). */
export type Decodable = Pick<RecordedEvent, 'position' | 'type' | 'data'> & { readonly streamId?: string };

export class UndecodableEventError extends Error {
  constructor(
    readonly event: Decodable,
    readonly problem: string,
  ) {
    super(
      `recorded event ${event.type} at position ${event.position}${event.streamId ? ` in ${event.streamId}` : ''} does not decode: ${problem}`,
    );
    this.name = 'UndecodableEventError';
  }
}

type DataOf<T extends DomainEventType> = Extract<DomainEvent, { type: T }>['data'];

interface DataDecoder<T> {
  readonly is: Guard<T>;
  /** For the explanation of a failure only (zod's issues); the check itself is `is`. */
  readonly schema: z.ZodType;
}

const decoderOf = <S extends z.ZodType>(schema: S) => ({ is: guardOf(schema), schema });

// Each entry type-checks the schema's output against the domain's type of the event's data.
const DATA: { readonly [T in DomainEventType]: DataDecoder<DataOf<T>> } = {
  AccountOpened: decoderOf(EVENT_CATALOGUE.AccountOpened.data),
  AccountFrozen: decoderOf(EVENT_CATALOGUE.AccountFrozen.data),
  AccountUnfrozen: decoderOf(EVENT_CATALOGUE.AccountUnfrozen.data),
  AccountClosed: decoderOf(EVENT_CATALOGUE.AccountClosed.data),
  TransferPosted: decoderOf(EVENT_CATALOGUE.TransferPosted.data),
  TransferPending: decoderOf(EVENT_CATALOGUE.TransferPending.data),
  PendingTransferPosted: decoderOf(EVENT_CATALOGUE.PendingTransferPosted.data),
  PendingTransferVoided: decoderOf(EVENT_CATALOGUE.PendingTransferVoided.data),
  PendingTransferExpired: decoderOf(EVENT_CATALOGUE.PendingTransferExpired.data),
  TransferReversed: decoderOf(EVENT_CATALOGUE.TransferReversed.data),
  FraudScored: decoderOf(EVENT_CATALOGUE.FraudScored.data),
  FraudReviewResolved: decoderOf(EVENT_CATALOGUE.FraudReviewResolved.data),
  PeriodClosed: decoderOf(EVENT_CATALOGUE.PeriodClosed.data),
  AdjustmentRequested: decoderOf(EVENT_CATALOGUE.AdjustmentRequested.data),
  AdjustmentApproved: decoderOf(EVENT_CATALOGUE.AdjustmentApproved.data),
};

// The catalogue and the domain name the same event types (a published type the domain lacks fails here).
const everyPublishedTypeDecodes: [Exclude<PublishedEventType, DomainEventType>] extends [never] ? true : false = true;
void everyPublishedTypeDecodes;

const isDomainEventType = (type: string): type is DomainEventType => Object.hasOwn(DATA, type);

/** The domain event a recorded event holds; throws UndecodableEventError when it holds none. */
export function decodeEvent(event: Decodable): DomainEvent {
  const { type } = event;
  if (!isDomainEventType(type)) {
    throw new UndecodableEventError(event, 'no event type of that name in the catalogue (src/events/event-schemas.ts)');
  }
  switch (type) {
    case 'AccountOpened':
      return { type, data: dataOf(event, DATA[type]) };
    case 'AccountFrozen':
    case 'AccountUnfrozen':
    case 'AccountClosed':
      return { type, data: dataOf(event, DATA[type]) };
    case 'TransferPosted':
      return { type, data: dataOf(event, DATA[type]) };
    case 'TransferPending':
      return { type, data: dataOf(event, DATA[type]) };
    case 'PendingTransferPosted':
      return { type, data: dataOf(event, DATA[type]) };
    case 'PendingTransferVoided':
      return { type, data: dataOf(event, DATA[type]) };
    case 'PendingTransferExpired':
      return { type, data: dataOf(event, DATA[type]) };
    case 'TransferReversed':
      return { type, data: dataOf(event, DATA[type]) };
    case 'FraudScored':
      return { type, data: dataOf(event, DATA[type]) };
    case 'FraudReviewResolved':
      return { type, data: dataOf(event, DATA[type]) };
    case 'PeriodClosed':
      return { type, data: dataOf(event, DATA[type]) };
    case 'AdjustmentRequested':
      return { type, data: dataOf(event, DATA[type]) };
    case 'AdjustmentApproved':
      return { type, data: dataOf(event, DATA[type]) };
    default:
      return unreachable(type);
  }
}

/**
 * The domain event a recorded event holds, which must be one of `types` (the first event of an
 * account's stream is its AccountOpened): anything else is an UndecodableEventError too.
 */
export function decodeEventOf<T extends DomainEventType>(
  event: Decodable,
  ...types: readonly T[]
): Extract<DomainEvent, { type: T }> {
  const decoded = decodeEvent(event);
  if (isOneOf(decoded, types)) return decoded;
  throw new UndecodableEventError(event, `expected ${types.join(' or ')} here`);
}

/** A recorded event of the ledger's own (accounts, transfers, holds), as the write model's streams hold. */
export const decodeLedgerEvent = (event: Decodable): LedgerEvent => decodeEventOf(event, ...LEDGER_EVENT_TYPES);

const isOneOf = <T extends DomainEventType>(
  event: DomainEvent,
  types: readonly T[],
): event is Extract<DomainEvent, { type: T }> => types.some((type) => type === event.type);

function dataOf<T>(event: Decodable, decoder: DataDecoder<T>): T {
  const { data } = event;
  if (decoder.is(data)) return data;
  throw new UndecodableEventError(event, explain(decoder.schema, data));
}

function explain(schema: z.ZodType, data: unknown): string {
  const result = schema.safeParse(data);
  if (result.success) return 'its schema accepts it but the compiled check does not (a bug in src/events/check.ts)';
  return result.error.issues.map((issue) => `${issue.path.join('.') || '(data)'}: ${issue.message}`).join('; ');
}

function unreachable(type: never): never {
  throw new Error(`decodeEvent has no case for ${String(type)}`);
}
