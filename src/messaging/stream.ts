import {
  DiscardPolicy,
  type JetStreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  type StreamConfig,
  type StreamInfo,
  StorageType,
} from '@nats-io/jetstream';

const nanos = (ms: number): number => ms * 1_000_000;

/** The JetStream stream the relay publishes to (docs/contract.md: `LEDGER`, subjects `ledger.>`). */
export interface StreamSettings {
  readonly name: string;
  readonly subjectPrefix: string;
  /** JetStream drops a message whose Nats-Msg-Id it saw within this window (at least 2 minutes). */
  readonly duplicateWindowMs: number;
  /** 0: no limit. */
  readonly maxAgeMs: number;
  readonly maxBytes: number;
  readonly maxMsgs: number;
  readonly replicas: number;
}

export function streamConfig(settings: StreamSettings): Partial<StreamConfig> & { name: string } {
  return {
    name: settings.name,
    description: 'Ledger events, published by the relay in global-log order (see /asyncapi.json)',
    subjects: [`${settings.subjectPrefix}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(settings.duplicateWindowMs),
    max_age: settings.maxAgeMs > 0 ? nanos(settings.maxAgeMs) : 0,
    max_bytes: settings.maxBytes > 0 ? settings.maxBytes : -1,
    max_msgs: settings.maxMsgs > 0 ? settings.maxMsgs : -1,
    num_replicas: settings.replicas,
    // Events are immutable: nobody removes one message from the middle of the history.
    deny_delete: true,
  };
}

/**
 * Creates the stream, or updates an existing one to these settings (subjects, limits, window).
 * Storage cannot change on an existing stream: the server refuses, and so does the relay's start.
 */
export async function ensureStream(jsm: JetStreamManager, settings: StreamSettings): Promise<StreamInfo> {
  const config = streamConfig(settings);
  let existing: StreamInfo | undefined;
  try {
    existing = await jsm.streams.info(settings.name);
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)) throw error;
  }
  if (!existing) return jsm.streams.add(config);
  const { name, storage: _fixed, ...changes } = config;
  return jsm.streams.update(name, changes);
}
