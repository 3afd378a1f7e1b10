import type { EventStoreTables } from '../eventstore/schema';
import type { FraudTables } from '../fraud/fraud-tables';
import type { ReadModelTables } from '../projections/schema';

/** Every table this service owns, for kysely. */
export interface Tables extends EventStoreTables, ReadModelTables, FraudTables {
  schema_migrations: { version: string; applied_at: Date };
}
