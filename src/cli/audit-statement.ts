import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { keptTreeHeadCovering } from '../audit/log-proofs';
import { StatementAccountNotFoundError, buildStatement, statementCsv, statementJson } from '../audit/statement';
import type { Database } from '../platform/database';
import { closedThroughAsKnownAt } from '../audit/closed-periods';
import { PostgresEventStore } from '../eventstore/postgres-event-store';

export class StatementUsageError extends Error {}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const timestamp = (value: string | undefined, name: string): string | undefined => {
  if (value === undefined) return undefined;
  if (!TIMESTAMP.test(value) || new Date(value).toISOString() !== value)
    throw new StatementUsageError(`${name} must be a UTC timestamp like 2026-09-30T23:59:59.999Z, not ${value}`);
  return value;
};

/**
 * `statement --account <id> --from <T> --to <T> [--known-at <K>] [--format csv|json] --out <file>`:
 * the same statement as GET /v1/accounts/{id}/statement, from the database, with the smallest
 * tree head the service has signed that covers it (the CLI holds no signing key).
 */
export async function statementCommand(
  args: string[],
  withDatabase: <T>(run: (database: Database) => Promise<T>) => Promise<T>,
): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      account: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'known-at': { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const from = timestamp(values.from, '--from');
  const to = timestamp(values.to, '--to');
  if (!values.account || !from || !to || !values.out)
    throw new StatementUsageError('statement needs --account, --from, --to and --out');
  if (from > to) throw new StatementUsageError('--from must not be after --to');
  const knownAt = timestamp(values['known-at'], '--known-at') ?? new Date().toISOString();
  const format = values.format ?? (values.out.endsWith('.json') ? 'json' : 'csv');
  if (format !== 'csv' && format !== 'json') throw new StatementUsageError(`--format is csv or json, not ${format}`);
  return withDatabase(async (database) => {
    let missingHead = false;
    try {
      const statement = await buildStatement(
        database.db,
        { accountId: values.account!, from, to, knownAt },
        async (position) => {
          const head = await keptTreeHeadCovering(database.db, position);
          missingHead = head === undefined;
          return head ?? null;
        },
        (at) => closedThroughAsKnownAt(new PostgresEventStore(database.db), at),
      );
      writeFileSync(
        values.out!,
        format === 'json' ? `${JSON.stringify(statementJson(statement), null, 2)}\n` : statementCsv(statement),
      );
      console.error(
        `statement of ${statement.accountId} from ${from} to ${to} as known at ${knownAt}: opening ${statement.openingBalance}, ${statement.entries.length} entries, closing ${statement.closingBalance}; written to ${values.out}`,
      );
      if (missingHead) {
        console.error(
          'no signed tree head covers it yet: fetch GET /v1/audit/tree-head from the service and run again',
        );
        return 1;
      }
      console.error(
        `covered by the tree head of ${statement.treeHead!.treeSize} events signed by key ${statement.treeHead!.keyId}`,
      );
      return 0;
    } catch (error) {
      if (error instanceof StatementAccountNotFoundError) {
        console.error(`statement refused: ${error.message}`);
        return 1;
      }
      throw error;
    }
  });
}
