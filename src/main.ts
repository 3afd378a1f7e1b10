import { Logger } from '@nestjs/common';
import { createLedgerApp } from './app';
import { ConfigError, loadConfig } from './config';

async function main(): Promise<void> {
  const logger = new Logger('ledger');
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const ledger = await createLedgerApp(config);
  logger.log(
    config.DATABASE_URL
      ? `storage: ${ledger.database.description}`
      : `storage: ${ledger.database.description} (no DATABASE_URL set: using the embedded PostgreSQL; set DATABASE_URL to use a server)`,
  );
  logger.log(`roles: ${config.LEDGER_ROLES.join(', ')}`);
  await ledger.app.listen({ port: config.PORT, host: config.HOST });
  logger.log(`listening on http://${config.HOST === '0.0.0.0' ? 'localhost' : config.HOST}:${config.PORT} (API docs at /docs)`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: finishing queued commands and stopping`);
    await ledger.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error) => {
  console.error('the ledger could not start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
