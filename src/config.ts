import { z } from 'zod';

/** The roles a process can play (docs/contract.md, "Layout"); all of them by default. */
export const ROLES = ['api', 'projector', 'relay', 'fraud'] as const;

const roleList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((role) => role.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.enum(ROLES)).min(1, 'name at least one role'));

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const probability = (fallback: number) => z.coerce.number().min(0).max(1).default(fallback);

/** Every configuration name users depend on (docs/contract.md, "Configuration"), validated once at start. */
export const ConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().min(1).optional(),
  /** Schema for every table of this service; tests give each suite its own. */
  LEDGER_DB_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case SQL identifier')
    .default('public'),
  LEDGER_DATA_DIR: z.string().min(1).default('./.ledger-data'),
  EVENTSTORE: z.enum(['postgres', 'esdb']).default('postgres'),
  ESDB_URL: z.string().optional(),
  NATS_URL: z.string().optional(),
  LEDGER_ROLES: roleList.default([...ROLES]),
  LEDGER_API_KEYS: z.string().optional(),
  LEDGER_RATE_LIMIT: positiveInt(5000),
  FRAUD_MODEL_PATH: z.string().optional(),
  ONNX_EXECUTION_PROVIDERS: z.string().default('cuda,cpu'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional(),
  /** Largest request body accepted, in bytes (a batch of 8,000 transfers fits in 8 MiB). */
  LEDGER_BODY_LIMIT_BYTES: positiveInt(8 * 1024 * 1024),
  /** Most commands decided and appended in one PostgreSQL transaction (group commit). */
  LEDGER_WRITE_BATCH_MAX: positiveInt(2000),
  /** Most commands waiting for the writer before new ones are refused with 503. */
  LEDGER_WRITE_QUEUE_MAX: positiveInt(50_000),
  /** Longest a query waits for `minPosition` before answering 503 not-caught-up. */
  LEDGER_MIN_POSITION_WAIT_MS: positiveInt(5000),
  /** Events the projector applies in one transaction. */
  LEDGER_PROJECTOR_BATCH_MAX: positiveInt(5000),
  /** How often an idle projector looks for events written by other processes. */
  LEDGER_PROJECTOR_POLL_MS: positiveInt(20),
  /** Ed25519 key that signs the hash chain's head (PKCS#8 PEM or a 32-byte seed in hex/base64); unset: a generated one, said in the log. */
  LEDGER_SIGNING_KEY: z.string().optional(),
  /** Several Ed25519 keys with ids, `id:key,id:key` (key as for LEDGER_SIGNING_KEY); the first one signs (ADR 0022). Takes precedence over LEDGER_SIGNING_KEY. */
  LEDGER_SIGNING_KEYS: z.string().optional(),
  /** How often the chain head is signed when the log has moved (GET /v1/audit/digest also signs on demand). */
  LEDGER_DIGEST_INTERVAL_MS: positiveInt(60_000),
  /**
   * How far V8 lets the heap grow past what survived its last full collection, in percent (V8's
   * `--heap-growing-percent`); 0 leaves V8's own rule, which lets it grow up to 4× (ADR 0039).
   */
  LEDGER_HEAP_GROWTH_PERCENT: z.coerce.number().int().min(0).max(400).default(50),
  /** Largest pool of PostgreSQL connections a process opens. */
  LEDGER_DB_POOL_MAX: positiveInt(10),
  /** JetStream stream the relay publishes to (docs/contract.md: LEDGER; tests give each run its own). */
  LEDGER_NATS_STREAM: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, "_" or "-"')
    .default('LEDGER'),
  /** First token of every subject: <prefix>.<aggregate>.<EventType> (docs/contract.md: ledger). */
  LEDGER_NATS_SUBJECT_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'NATS subject tokens separated by "."')
    .default('ledger'),
  /** JetStream de-duplication window by Nats-Msg-Id; at least 2 minutes so a restarted relay's repeats are dropped. */
  LEDGER_NATS_DUPLICATE_WINDOW_MS: z.coerce.number().int().min(120_000, 'at least 120000 (2 minutes)').default(120_000),
  /** Stream limits; 0 = no limit. */
  LEDGER_NATS_MAX_AGE_MS: z.coerce.number().int().min(0).default(0),
  LEDGER_NATS_MAX_BYTES: z.coerce.number().int().min(0).default(0),
  LEDGER_NATS_MAX_MSGS: z.coerce.number().int().min(0).default(0),
  LEDGER_NATS_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  /** Events the relay publishes (pipelined) before it awaits their acks and moves its checkpoint. */
  LEDGER_RELAY_BATCH_MAX: positiveInt(5000),
  /** How often an idle relay looks for events written by other processes. */
  LEDGER_RELAY_POLL_MS: positiveInt(20),
  /** Longest the relay waits for one publish acknowledgement. */
  LEDGER_RELAY_ACK_TIMEOUT_MS: positiveInt(5000),
  /** Cap of the relay's exponential backoff while NATS (or the database) is away. */
  LEDGER_RELAY_BACKOFF_MAX_MS: positiveInt(30_000),
  /** Fraud score at or above which a transfer's decision is `review` (else `allow`). */
  FRAUD_REVIEW_THRESHOLD: probability(0.5),
  /** Fraud score at or above which the debited account is frozen (a saga through the write path). Unset: off. */
  FRAUD_AUTO_FREEZE_THRESHOLD: z.coerce.number().min(0).max(1).optional(),
  /** Test hook for the crash tests: a pause after each step of a fraud compensation (ADR 0024). 0: none. */
  FRAUD_COMPENSATION_STEP_PAUSE_MS: z.coerce.number().int().min(0).max(60_000).default(0),
  /** Most transfers scored in one inference call. */
  FRAUD_BATCH_MAX: positiveInt(1024),
  /** How long the scorer lets a batch gather after it was idle, in milliseconds. */
  FRAUD_BATCH_WAIT_MS: z.coerce.number().int().min(0).default(5),
  /** Inference threads (each holds its own ONNX Runtime session). */
  FRAUD_WORKERS: positiveInt(1),
  /** Longest one inference call may take before it counts as a failure and its thread is replaced. */
  FRAUD_TIMEOUT_MS: positiveInt(2000),
  /** Consecutive inference failures that open the circuit breaker. */
  FRAUD_BREAKER_FAILURES: positiveInt(5),
  /** How long the breaker stays open before a half-open probe (which reloads the model file first). */
  FRAUD_BREAKER_HALF_OPEN_MS: positiveInt(5000),
  /** Failures, with the breaker closed, after which an event goes to the dead-letter table. */
  FRAUD_POISON_ATTEMPTS: positiveInt(3),
  /** How often an idle scorer looks for transfers written by other processes. */
  FRAUD_POLL_MS: positiveInt(50),
  /** With EVENTSTORE=esdb: how long the service waits at start for EventStoreDB to answer before it refuses to start. */
  LEDGER_ESDB_CONNECT_TIMEOUT_MS: positiveInt(10_000),
  /** OpenTelemetry's automatic spans to add when exporting: a comma-separated subset of http,pg (costly: see docs/operations.md, "Tracing"). */
  LEDGER_OTEL_INSTRUMENTATIONS: z
    .string()
    .regex(/^\s*((http|pg)\s*(,\s*(http|pg)\s*)*)?$/, 'a comma-separated subset of http,pg')
    .optional(),
  /** Browser origins allowed to call the API (CORS), comma-separated; unset: CORS is off. */
  LEDGER_CORS_ORIGINS: z.string().optional(),
  /** `production` refuses to start an API without LEDGER_API_KEYS (no generated key). */
  NODE_ENV: z.string().optional(),
});

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {}

/** The ONNX Runtime execution providers this service knows how to ask for. */
export const KNOWN_PROVIDERS = ['cuda', 'cpu'] as const;
export type ExecutionProvider = (typeof KNOWN_PROVIDERS)[number];

/** `ONNX_EXECUTION_PROVIDERS`: a comma-separated preference list, e.g. `cuda,cpu`. */
export function parseExecutionProviders(value: string): ExecutionProvider[] {
  const names = value
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  if (names.length === 0) throw new Error('name at least one execution provider (cuda, cpu)');
  for (const name of names) {
    if (!(KNOWN_PROVIDERS as readonly string[]).includes(name)) {
      throw new Error(`unknown execution provider "${name}" (known: ${KNOWN_PROVIDERS.join(', ')})`);
    }
  }
  return [...new Set(names)] as ExecutionProvider[];
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const config = parsed.data;
  try {
    parseExecutionProviders(config.ONNX_EXECUTION_PROVIDERS);
  } catch (error) {
    throw new ConfigError(`invalid configuration:\n  ONNX_EXECUTION_PROVIDERS: ${(error as Error).message}`);
  }
  if (config.EVENTSTORE === 'esdb' && !config.ESDB_URL) {
    throw new ConfigError('EVENTSTORE=esdb needs ESDB_URL (for example esdb://localhost:2113?tls=false)');
  }
  return config;
}
