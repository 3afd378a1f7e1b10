import { PostgresEventStore } from '../../src/eventstore/postgres-event-store';
import { createTestDatabase } from '../support/database';
import { eventStoreContract } from './contract';

eventStoreContract('PostgreSQL (or PGlite when no server answers)', async () => {
  const tdb = await createTestDatabase();
  return {
    store: new PostgresEventStore(tdb.database.db),
    cleanup: () => tdb.drop(),
    tamper: {
      // An attacker with the table owner's rights can switch the immutability trigger off; the
      // hash chain is what still gives them away.
      async rewriteEventData(position, data) {
        await tdb.query('alter table events disable trigger events_immutable');
        try {
          await tdb.query('update events set data = $1::json where position = $2::bigint', [
            JSON.stringify(data),
            position.toString(),
          ]);
        } finally {
          await tdb.query('alter table events enable trigger events_immutable');
        }
      },
    },
  };
});
