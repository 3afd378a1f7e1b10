import type { EventStoreTables } from '../eventstore/schema';
import type { ReadModelTables } from '../projections/schema';

/** Every table this service owns, for kysely. */
export interface Tables extends EventStoreTables, ReadModelTables {
  schema_migrations: { version: string; applied_at: Date };
}
