import { aggregateOf } from './envelope';
import {
  EVENT_CATALOGUE,
  PUBLISHED_EVENT_TYPES,
  eventJsonSchemas,
  messageHeadersJsonSchema,
} from '../events/event-schemas';

/** The subject prefix and stream of docs/contract.md: the document describes the contract, not a test's. */
const PREFIX = 'ledger';
const STREAM = 'LEDGER';

/**
 * The AsyncAPI 3.0 document of the ledger's events: one channel per event type, its message's
 * headers and payload as JSON Schema generated from the zod schemas (src/events/event-schemas.ts).
 * Served at GET /asyncapi.json and committed as docs/asyncapi.json (`npm run asyncapi`).
 */
export function asyncApiDocument(version: string) {
  const payloads = eventJsonSchemas();
  const channels: Record<string, object> = {};
  const operations: Record<string, object> = {};
  const messages: Record<string, object> = {};
  for (const type of PUBLISHED_EVENT_TYPES) {
    const address = `${PREFIX}.${aggregateOf({ type })}.${type}`;
    const description = EVENT_CATALOGUE[type].data.meta()?.description;
    channels[type] = {
      address,
      title: type,
      ...(description ? { description } : {}),
      messages: { [type]: { $ref: `#/components/messages/${type}` } },
    };
    operations[`publish${type}`] = {
      action: 'send',
      title: `The relay publishes ${type}`,
      channel: { $ref: `#/channels/${type}` },
      messages: [{ $ref: `#/channels/${type}/messages/${type}` }],
    };
    messages[type] = {
      name: type,
      title: type,
      contentType: 'application/json',
      correlationId: { description: 'The command that caused it', location: '$message.payload#/correlationId' },
      headers: { $ref: '#/components/schemas/MessageHeaders' },
      payload: { $ref: `#/components/schemas/${type}` },
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Ledger events',
      version,
      description: [
        `Every event of the ledger, published by its relay to the NATS JetStream stream \`${STREAM}\` in global-log order,`,
        `on subjects \`${PREFIX}.<aggregate>.<EventType>\`. Each message's \`Nats-Msg-Id\` is the event id, so a`,
        're-publish is dropped by JetStream within its duplicate window (and a consumer can de-duplicate by it);',
        'events of one account arrive in the order they were recorded. The body is the event envelope;',
        'amounts are decimal strings of minor units. See docs/events.md in the repository.',
      ].join(' '),
    },
    defaultContentType: 'application/json',
    servers: {
      nats: {
        host: 'localhost:4222',
        protocol: 'nats',
        description: `The NATS server of the ledger's NATS_URL, with JetStream; stream ${STREAM}, subjects ${PREFIX}.>`,
      },
    },
    channels,
    operations,
    components: {
      messages,
      schemas: { MessageHeaders: messageHeadersJsonSchema(), ...payloads },
    },
  };
}
