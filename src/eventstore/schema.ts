/** Event-store tables (migrations/0001_event_store.sql). The adapter reads them with SQL casts. */
export interface EventStoreTables {
  events: {
    position: string;
    event_id: string;
    stream_id: string;
    revision: string;
    type: string;
    data: unknown;
    metadata: unknown;
    recorded_at: Date;
    prev_hash: Uint8Array;
    hash: Uint8Array;
  };
  stream_links: { stream_id: string; revision: string; position: string };
  stream_heads: { stream_id: string; revision: string };
  log_head: { id: number; position: string; hash: Uint8Array; recorded_at: Date | null };
}

declare module '../platform/tables' {
  interface Tables extends EventStoreTables {}
}
