import type { CheckpointsTable } from './checkpoints';

/**
 * Every table this service owns, for kysely. The ground floor declares only its own; each floor
 * above adds its tables beside their schema (`declare module '…/platform/tables'`), so this file
 * names nothing above it and every floor still sees one `Kysely<Tables>`.
 */
export interface Tables {
  schema_migrations: { version: string; applied_at: Date };
  checkpoints: CheckpointsTable;
}
