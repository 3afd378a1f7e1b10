import './platform/tracing-preload';
import { setFlagsFromString } from 'node:v8';
import { Logger } from '@nestjs/common';
import { generatedKeyNotice, keysForStartup } from './api/auth/startup-keys';
import { createLedgerApp } from './app';
import { type Config, ConfigError, loadConfig } from './config';
import { flushLogs } from './platform/logging';
import { stopTracing } from './platform/tracing';

async function main(): Promise<void> {
  const logger = new Logger('ledger');
  let config: Config;
  let generatedKey: string | undefined;
  try {
    ({ config, generatedKey } = keysForStartup(loadConfig()));
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  // V8 reads the flag at every full collection: set now, it holds for the whole run (ADR 0039).
  if (config.LEDGER_HEAP_GROWTH_PERCENT > 0) {
    setFlagsFromString(`--heap-growing-percent=${config.LEDGER_HEAP_GROWTH_PERCENT}`);
  }
  const ledger = await createLedgerApp(config);
  logger.log(
    config.DATABASE_URL
      ? `storage: ${ledger.database.description}`
      : `storage: ${ledger.database.description} (no DATABASE_URL set: using the embedded PostgreSQL; set DATABASE_URL to use a server)`,
  );
  logger.log(`roles: ${config.LEDGER_ROLES.join(', ')}`);
  await ledger.app.listen({ port: config.PORT, host: config.HOST });
  logger.log(
    `listening on http://${config.HOST === '0.0.0.0' ? 'localhost' : config.HOST}:${config.PORT} (API docs at /docs)`,
  );
  if (generatedKey) {
    // Printed once, on stdout, never through the logger: logs are shipped and kept.
    logger.warn('LEDGER_API_KEYS is not set: generated one admin key for this run and printed it once on stdout');
    flushLogs(); // so the notice stands apart from the log lines before it
    process.stdout.write(generatedKeyNotice(generatedKey));
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: finishing queued commands and stopping`);
    await ledger.close();
    await stopTracing();
    flushLogs();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error) => {
  console.error('the ledger could not start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
