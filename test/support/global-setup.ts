import type { TestProject } from 'vitest/node';
import { natsAvailable, postgresAvailable } from './database';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Whether NATS answers (probed once per run); see test/support/nats.ts. */
    natsAvailable: boolean;
    /** Whether the test PostgreSQL answers (else the integration tests run on PGlite). */
    postgresAvailable: boolean;
  }
}

/** Says once, at the top of the run, what the integration tests run against. */
export default async function setup(project: TestProject): Promise<void> {
  const onPostgres = await postgresAvailable();
  console.log(
    onPostgres
      ? `[tests] integration tests run on PostgreSQL (${process.env.TEST_DATABASE_URL ?? '127.0.0.1:5432/test'})`
      : '[tests] integration tests run on the embedded PGlite (no PostgreSQL answered)',
  );
  // Under CI=true a missing NATS throws here: a failure, never a skip.
  const nats = await natsAvailable();
  if (!nats) console.warn('[tests] no NATS answered: the tests that need it are SKIPPED (start nats-server -js)');
  project.provide('natsAvailable', nats);
  project.provide('postgresAvailable', onPostgres);
}
