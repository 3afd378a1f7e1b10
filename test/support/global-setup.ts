import { postgresAvailable } from './database';

/** Says once, at the top of the run, what the integration tests run against. */
export default async function setup(): Promise<void> {
  const onPostgres = await postgresAvailable();
  console.log(
    onPostgres
      ? `[tests] integration tests run on PostgreSQL (${process.env.TEST_DATABASE_URL ?? '127.0.0.1:5432/test'})`
      : '[tests] integration tests run on the embedded PGlite (no PostgreSQL answered)',
  );
}
