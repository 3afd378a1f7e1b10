import { loadConfig } from '../config';
import { PostgresEventStore } from '../eventstore/postgres-event-store';
import { openDatabase } from '../platform/database';
import { migrate } from '../platform/migrations';
import { rebuildReadModels } from '../projections/rebuild';

/** `npm run rebuild-read-models`: replays the event store into fresh read models, with progress. */
async function main(): Promise<void> {
  const config = loadConfig();
  const database = await openDatabase(config);
  try {
    await migrate(database);
    const store = new PostgresEventStore(database.db);
    console.error(`rebuilding read models in ${database.description} from the event store`);
    let lastPrint = 0;
    const result = await rebuildReadModels(database.db, store, {
      batchSizeMax: config.LEDGER_PROJECTOR_BATCH_MAX,
      onProgress: (p) => {
        if (Date.now() - lastPrint < 500 && p.position < p.head) return;
        lastPrint = Date.now();
        const percent = p.head > 0n ? Number((p.position * 1000n) / p.head) / 10 : 100;
        process.stderr.write(
          `  ${p.position}/${p.head} positions (${percent.toFixed(1)}%), ${p.applied} events, ${p.eventsPerSecond} events/s\n`,
        );
      },
    });
    console.error(
      `done: ${result.applied} events replayed, read models at position ${result.position} (${result.eventsPerSecond} events/s)`,
    );
  } finally {
    await database.close();
  }
}

main().catch((error) => {
  console.error('rebuild failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
