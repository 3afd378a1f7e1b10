import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigSchema } from '../config';

/**
 * What each configuration name means, for docs/configuration.md. Keyed by the schema's own keys, so
 * a name added to src/config.ts without a line here does not compile; the defaults and accepted
 * values come from the schema itself. `default` is written only where the schema cannot say it
 * (unset, or computed).
 */
const DESCRIPTIONS: Record<
  keyof z.input<typeof ConfigSchema>,
  { readonly meaning: string; readonly default?: string }
> = {
  PORT: { meaning: 'HTTP port.' },
  HOST: { meaning: 'Address the HTTP server listens on.' },
  DATABASE_URL: {
    meaning:
      'PostgreSQL for the read models (and the event store with `EVENTSTORE=postgres`). Unset: the embedded PGlite in `LEDGER_DATA_DIR`.',
    default: 'unset',
  },
  LEDGER_DATA_DIR: { meaning: 'Where the embedded PGlite keeps its files when `DATABASE_URL` is unset.' },
  EVENTSTORE: {
    meaning: 'Event store adapter: `postgres` (in the same PostgreSQL or PGlite) or `esdb` (EventStoreDB / KurrentDB).',
  },
  ESDB_URL: {
    meaning:
      'EventStoreDB / KurrentDB connection string, e.g. `esdb://localhost:2113?tls=false`; required with `EVENTSTORE=esdb`.',
    default: 'unset',
  },
  NATS_URL: {
    meaning:
      'NATS server for the event relay, e.g. `nats://localhost:4222`. Unset: publishing is off, and the log says so.',
    default: 'unset',
  },
  LEDGER_ROLES: {
    meaning: 'The roles this process plays; run several processes with different roles to scale them apart.',
    default: '`api,projector,relay,fraud`',
  },
  LEDGER_API_KEYS: {
    meaning:
      '`key:role` pairs, comma-separated, e.g. `k1:operator,k2:auditor,k3:admin`. Unset: one admin key is generated and printed once at start.',
    default: 'unset',
  },
  LEDGER_RATE_LIMIT: { meaning: 'Requests per second allowed per API key, then 429 with `Retry-After`.' },
  FRAUD_MODEL_PATH: { meaning: 'ONNX fraud model to load.', default: 'the model in `models/`' },
  ONNX_EXECUTION_PROVIDERS: {
    meaning:
      'ONNX Runtime providers in order of preference (`cuda`, `cpu`): CUDA only where its provider is installed, else CPU; decided at start, logged, and shown by `/health/ready` and `ledger_fraud_execution_provider`.',
  },
  FRAUD_REVIEW_THRESHOLD: {
    meaning: "Fraud score (0–1) at or above which a transfer's `FraudScored` decision is `review` rather than `allow`.",
  },
  FRAUD_AUTO_FREEZE_THRESHOLD: {
    meaning:
      'Fraud score at or above which the scorer freezes the debited account through the write path (`AccountFrozen` naming the transfer).',
    default: 'unset (off)',
  },
  FRAUD_BATCH_MAX: { meaning: 'Most transfers scored in one inference call.' },
  FRAUD_BATCH_WAIT_MS: { meaning: 'How long an idle scorer lets a batch gather once new events arrive.' },
  FRAUD_WORKERS: { meaning: 'Inference processes (children of the service), each with its own ONNX Runtime session.' },
  FRAUD_TIMEOUT_MS: {
    meaning:
      'Longest one inference call may take; past it the call counts as a failure and its process is killed and replaced.',
  },
  FRAUD_BREAKER_FAILURES: {
    meaning: 'Consecutive inference failures that open the circuit breaker (scoring pauses, the checkpoint stays).',
  },
  FRAUD_BREAKER_HALF_OPEN_MS: {
    meaning: 'How long the breaker stays open before a half-open probe, which first reloads the model file.',
  },
  FRAUD_POISON_ATTEMPTS: {
    meaning: 'Failures of one event, with the breaker closed, before it goes to the dead-letter table.',
  },
  FRAUD_POLL_MS: { meaning: 'How often an idle scorer looks for transfers written by other processes.' },
  LOG_LEVEL: { meaning: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.' },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    meaning: 'OpenTelemetry OTLP endpoint for traces. Unset: no export.',
    default: 'unset',
  },
  LEDGER_DB_SCHEMA: { meaning: 'PostgreSQL schema holding every table of this service (created if missing).' },
  LEDGER_DB_POOL_MAX: { meaning: 'Largest pool of PostgreSQL connections a process opens.' },
  LEDGER_HEAP_GROWTH_PERCENT: {
    meaning:
      "How far V8 lets the JavaScript heap grow past what survived its last full collection, in percent (V8's `--heap-growing-percent`, set at start). 0 leaves V8's own rule, which lets the heap grow up to 4× its live size (ADR 0039).",
  },
  LEDGER_ESDB_CONNECT_TIMEOUT_MS: {
    meaning:
      'With `EVENTSTORE=esdb`: how long the service waits at start for EventStoreDB to answer; then it refuses to start.',
  },
  LEDGER_BODY_LIMIT_BYTES: {
    meaning: 'Largest request body accepted; a batch of 8,000 transfers fits.',
    default: '`8388608` (8 MiB)',
  },
  LEDGER_WRITE_BATCH_MAX: {
    meaning: 'Most commands decided and appended in one PostgreSQL transaction (group commit).',
  },
  LEDGER_WRITE_QUEUE_MAX: { meaning: 'Most commands waiting for the writer before new ones are refused with 503.' },
  LEDGER_MIN_POSITION_WAIT_MS: {
    meaning: 'Longest a query waits for `minPosition` before answering 503 `not-caught-up`.',
  },
  LEDGER_PROJECTOR_BATCH_MAX: { meaning: 'Events the projector applies in one transaction.' },
  LEDGER_PROJECTOR_POLL_MS: { meaning: 'How often an idle projector looks for events written by other processes.' },
  LEDGER_NATS_STREAM: { meaning: 'JetStream stream the relay creates (or updates) at start and publishes to.' },
  LEDGER_NATS_SUBJECT_PREFIX: {
    meaning: 'First token of every subject: `<prefix>.<aggregate>.<EventType>`; the stream takes `<prefix>.>`.',
  },
  LEDGER_NATS_DUPLICATE_WINDOW_MS: {
    meaning: "JetStream's de-duplication window by `Nats-Msg-Id` (at least 2 minutes).",
  },
  LEDGER_NATS_MAX_AGE_MS: { meaning: 'Stream limit: oldest message kept, in ms; `0` = no limit.' },
  LEDGER_NATS_MAX_BYTES: { meaning: 'Stream limit: bytes kept; `0` = no limit.' },
  LEDGER_NATS_MAX_MSGS: { meaning: 'Stream limit: messages kept; `0` = no limit.' },
  LEDGER_NATS_REPLICAS: { meaning: 'Stream replicas (on a JetStream cluster).' },
  LEDGER_RELAY_BATCH_MAX: {
    meaning: 'Events the relay publishes (pipelined) before it awaits their acks and moves its checkpoint.',
  },
  LEDGER_RELAY_POLL_MS: { meaning: 'How often an idle relay looks for events written by other processes.' },
  LEDGER_RELAY_ACK_TIMEOUT_MS: {
    meaning: "Longest the relay waits for a batch's publish acknowledgements before it retries.",
  },
  LEDGER_RELAY_BACKOFF_MAX_MS: {
    meaning: "Cap of the relay's exponential backoff (from 100 ms) while NATS or the database is away.",
  },
  LEDGER_OTEL_INSTRUMENTATIONS: {
    meaning:
      "With `OTEL_EXPORTER_OTLP_ENDPOINT`: OpenTelemetry's automatic spans to add, a comma-separated subset of `http,pg` (every socket-level request, every query). Unset: only the ledger's own spans (request, write batch, decide, append, project), which cost about 4% of the write path (10 paired rounds); with both it measured 16%.",
    default: 'unset',
  },
  LEDGER_CORS_ORIGINS: {
    meaning:
      'Browser origins allowed to call the API, comma-separated (e.g. `https://console.example.com`). Unset: CORS is off (no CORS headers at all).',
    default: 'unset',
  },
  NODE_ENV: {
    meaning: '`production` makes an API process refuse to start without `LEDGER_API_KEYS` instead of generating a key.',
    default: 'unset',
  },
  LEDGER_SIGNING_KEY: {
    meaning:
      "Ed25519 private key that signs the hash chain's head: PKCS#8 PEM, or the 32-byte seed in hex or base64. Unset: a key is generated for the process, and the log says so (digests then do not verify after a restart).",
    default: 'unset',
  },
  LEDGER_SIGNING_KEYS: {
    meaning:
      'Several Ed25519 keys with ids, `id:key,id:key` (each key as for `LEDGER_SIGNING_KEY`); the first one signs, the others still verify what they signed (ADR 0022). Takes precedence over `LEDGER_SIGNING_KEY`.',
    default: 'unset',
  },
  FRAUD_COMPENSATION_STEP_PAUSE_MS: {
    meaning: 'Test hook for the crash tests: a pause after each step of a fraud compensation (ADR 0024); `0`: none.',
  },
  LEDGER_DIGEST_INTERVAL_MS: {
    meaning: 'How often the chain head is signed when the log has moved (`GET /v1/audit/digest` also signs on demand).',
  },
};

interface PropertySchema {
  type?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  default?: unknown;
}

/** What the schema accepts, in a few words. */
function accepts(property: PropertySchema): string {
  if (property.enum) return property.enum.map((value) => `\`${String(value)}\``).join(', ');
  const bounds = [
    property.minimum !== undefined ? `≥ ${property.minimum}` : '',
    property.maximum !== undefined ? `≤ ${property.maximum}` : '',
  ].filter(Boolean);
  return [property.type ?? 'string', ...bounds].join(' ');
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** docs/configuration.md, generated from the configuration schema (`npm run docs:config`). */
export function configurationMarkdown(): string {
  const schema = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as {
    properties: Record<string, PropertySchema>;
  };
  const rows = Object.entries(DESCRIPTIONS).map(([name, { meaning, default: written }]) => {
    const property = schema.properties[name] ?? {};
    const fallback =
      property.default !== undefined ? `\`${JSON.stringify(property.default).replace(/^"|"$/g, '')}\`` : 'unset';
    return `| \`${name}\` | ${cell(written ?? fallback)} | ${cell(accepts(property))} | ${cell(meaning)} |`;
  });
  return [
    '# Configuration',
    '',
    '<!-- Generated from src/config.ts by `npm run docs:config`; test/docs/configuration.spec.ts fails when it is stale. -->',
    '',
    'Every setting is an environment variable, read and validated once at start (`src/config.ts`); an',
    'invalid value stops the service with a message naming it. The names users depend on are fixed by',
    'the [contract](contract.md#configuration).',
    '',
    '| name | default | accepts | meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

if (require.main === module) {
  const file = path.resolve(__dirname, '../../..', 'docs/configuration.md');
  writeFileSync(file, configurationMarkdown());
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
