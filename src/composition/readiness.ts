import { sql } from 'kysely';
import type { Config } from '../config';
import { registerFraudReadiness } from '../fraud/fraud-role';
import { relayReadiness } from '../messaging/relay-role';
import { Readiness } from '../platform/readiness';
import type { LedgerParts } from './parts';

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** What /health/ready checks in this process: storage, and each role it plays. */
export function ledgerReadiness(config: Config, parts: LedgerParts): Readiness {
  const { database, esdb, projector, relay, auditor, signingKeys, merkleTree, fraud } = parts;
  const readiness = new Readiness();
  readiness.register('database', async () => {
    await sql`select 1`.execute(database.db);
    return { status: 'up', kind: database.kind };
  });
  readiness.register('eventstore', () =>
    esdb ? { ...esdb.watch.check(), kind: 'esdb' } : { status: 'up', kind: database.kind },
  );
  readiness.register('projector', () => {
    if (!projector) return { status: 'off' };
    const error = projector.lastError;
    return {
      status: error !== undefined || !projector.isRunning ? 'down' : 'up',
      position: projector.checkpoint.toString(),
      lagMs: projector.lastLagMs,
      ...(error !== undefined ? { error: errorText(error) } : {}),
    };
  });
  readiness.register('merkle-tree', () => {
    if (!merkleTree) return { status: 'off' };
    const error = merkleTree.lastError;
    return {
      status: error !== undefined || !merkleTree.isRunning ? 'down' : 'up',
      position: merkleTree.checkpoint.toString(),
      ...(error !== undefined ? { error: errorText(error) } : {}),
    };
  });
  readiness.register('relay', () => relayReadiness(config, relay));
  readiness.register('audit-signing', () => ({
    status: auditor.lastSigningError !== undefined ? 'down' : 'up',
    keyId: signingKeys.active.keyId,
    generatedKey: signingKeys.active.generated,
    ...(auditor.lastSigningError !== undefined ? { error: String(auditor.lastSigningError) } : {}),
  }));
  registerFraudReadiness(readiness, fraud, config.LEDGER_ROLES.length === 1);
  return readiness;
}
