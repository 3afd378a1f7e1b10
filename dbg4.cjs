const { openDatabase } = require('./dist/src/platform/database.js');
const { PostgresEventStore } = require('./dist/src/eventstore/postgres-event-store.js');
const { randomUUID } = require('crypto');
(async () => {
  const db = await openDatabase({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/' + process.argv[2], LEDGER_DB_SCHEMA: process.argv[3], LEDGER_DATA_DIR: 'memory://', LEDGER_DB_POOL_MAX: 5 });
  const store = new PostgresEventStore(db.db);
  const t0 = Date.now();
  const ev = () => ({ events: [{ eventId: randomUUID(), streamId: 's-' + randomUUID(), type: 'T', data: {}, metadata: {} }], expected: new Map(), recordedAt: new Date().toISOString() });
  await store.append({ ...ev(), after: randomUUID() }).then(() => console.log('B ok'), (e) => console.log('B failed', Date.now() - t0, e.message));
  process.exit(0);
})();
