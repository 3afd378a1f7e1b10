import { type Kysely, sql } from 'kysely';
import type { Tables } from '../platform/tables';
import { type AccountProfile, type FeatureState, pairKey } from './features';
import { isoTimestamp } from '../platform/sql';

export const FRAUD_CHECKPOINT = 'fraud-scorer';

/** The scorer's tables (migrations/0004_fraud_features.sql): feature state and dead letters. */
export class FraudStore {
  constructor(private readonly db: Kysely<Tables>) {}

  /** The profiles of these accounts and which of these debit→credit pairs were seen before. */
  async loadState(
    accountIds: readonly string[],
    pairs: ReadonlyArray<readonly [string, string]>,
  ): Promise<FeatureState> {
    const profiles = new Map<string, AccountProfile>();
    const seen = new Set<string>();
    if (accountIds.length > 0) {
      const rows = await sql<{ account_id: string; profile: AccountProfile | string }>`
        select account_id, profile from fraud_profiles where account_id = any(${[...accountIds]}::text[])`.execute(
        this.db,
      );
      for (const row of rows.rows) {
        profiles.set(row.account_id, typeof row.profile === 'string' ? JSON.parse(row.profile) : row.profile);
      }
    }
    if (pairs.length > 0) {
      const rows = await sql<{ account_id: string; counterparty_id: string }>`
        select c.account_id, c.counterparty_id
        from fraud_counterparties c
        join unnest(${pairs.map((p) => p[0])}::text[], ${pairs.map((p) => p[1])}::text[]) as x(a, b)
          on c.account_id = x.a and c.counterparty_id = x.b`.execute(this.db);
      for (const row of rows.rows) seen.add(pairKey(row.account_id, row.counterparty_id));
    }
    return { profiles, pairs: seen };
  }

  /** Writes changed profiles and new pairs (inside the caller's checkpoint transaction). */
  async saveState(
    trx: Kysely<Tables>,
    profiles: ReadonlyMap<string, AccountProfile>,
    newPairs: ReadonlyArray<readonly [string, string]>,
    position: bigint,
  ): Promise<void> {
    if (profiles.size > 0) {
      const ids = [...profiles.keys()];
      await sql`
        insert into fraud_profiles (account_id, profile, position)
        select id, p::json, ${position.toString()}::numeric
        from unnest(${ids}::text[], ${ids.map((id) => JSON.stringify(profiles.get(id)))}::text[]) as x(id, p)
        on conflict (account_id) do update set profile = excluded.profile, position = excluded.position`.execute(trx);
    }
    if (newPairs.length > 0) {
      await sql`
        insert into fraud_counterparties (account_id, counterparty_id, position)
        select a, b, ${position.toString()}::numeric
        from unnest(${newPairs.map((p) => p[0])}::text[], ${newPairs.map((p) => p[1])}::text[]) as x(a, b)
        on conflict do nothing`.execute(trx);
    }
  }

  async addDeadLetter(
    trx: Kysely<Tables>,
    letter: { position: bigint; eventId: string; transferId: string | undefined; error: string; attempts: number },
  ): Promise<void> {
    await sql`
      insert into fraud_dead_letters (position, event_id, transfer_id, error, attempts)
      values (${letter.position.toString()}::numeric, ${letter.eventId}::uuid, ${letter.transferId ?? null},
              ${letter.error.slice(0, 2000)}, ${letter.attempts})
      on conflict (position) do nothing`.execute(trx);
  }

  async listDeadLetters(options: {
    status?: DeadLetterStatus;
    limit: number;
    afterId?: bigint;
  }): Promise<DeadLetter[]> {
    const rows = await sql<DeadLetterRow>`
      select ${DEAD_LETTER_COLUMNS} from fraud_dead_letters
      where (${options.status ?? null}::text is null or status = ${options.status ?? null})
        and id > ${(options.afterId ?? 0n).toString()}::bigint
      order by id limit ${options.limit}`.execute(this.db);
    return rows.rows.map(deadLetter);
  }

  async getDeadLetter(id: bigint): Promise<DeadLetter | undefined> {
    const rows = await sql<DeadLetterRow>`
      select ${DEAD_LETTER_COLUMNS} from fraud_dead_letters where id = ${id.toString()}::bigint`.execute(this.db);
    return rows.rows[0] && deadLetter(rows.rows[0]);
  }

  /** Asks the scorer to try a dead letter again; undefined if there is none, the row as it stands otherwise. */
  async requestRetry(id: bigint): Promise<DeadLetter | undefined> {
    await sql`
      update fraud_dead_letters set status = 'retry-requested', retry_requested_at = now()
      where id = ${id.toString()}::bigint and status = 'dead'`.execute(this.db);
    return this.getDeadLetter(id);
  }

  async retryRequested(limit: number): Promise<DeadLetter[]> {
    return this.listDeadLetters({ status: 'retry-requested', limit });
  }

  async resolveDeadLetter(id: bigint, score: number): Promise<void> {
    await sql`
      update fraud_dead_letters set status = 'resolved', resolved_at = now(), score = ${score}
      where id = ${id.toString()}::bigint and status = 'retry-requested'`.execute(this.db);
  }

  async failRetry(id: bigint, error: string): Promise<void> {
    await sql`
      update fraud_dead_letters set status = 'dead', error = ${error.slice(0, 2000)}, attempts = attempts + 1
      where id = ${id.toString()}::bigint and status = 'retry-requested'`.execute(this.db);
  }

  async countDeadLetters(): Promise<number> {
    const rows = await sql<{
      n: string;
    }>`select count(*)::text as n from fraud_dead_letters where status <> 'resolved'`.execute(this.db);
    return Number(rows.rows[0]!.n);
  }
}

export type DeadLetterStatus = 'dead' | 'retry-requested' | 'resolved';

export interface DeadLetter {
  readonly id: bigint;
  readonly position: bigint;
  readonly eventId: string;
  readonly transferId: string | null;
  readonly error: string;
  readonly attempts: number;
  readonly status: DeadLetterStatus;
  readonly deadAt: string;
  readonly retryRequestedAt: string | null;
  readonly resolvedAt: string | null;
  readonly score: number | null;
}

interface DeadLetterRow {
  id: string;
  position: string;
  event_id: string;
  transfer_id: string | null;
  error: string;
  attempts: number;
  status: DeadLetterStatus;
  dead_at: string;
  retry_requested_at: string | null;
  resolved_at: string | null;
  score: number | null;
}

const ts = (column: string) => sql`${isoTimestamp(column)} as ${sql.ref(column)}`;
const DEAD_LETTER_COLUMNS = sql.join([
  sql.raw(
    'id::text as id, position::text as position, event_id::text as event_id, transfer_id, error, attempts, status',
  ),
  ts('dead_at'),
  ts('retry_requested_at'),
  ts('resolved_at'),
  sql.raw('score'),
]);

const deadLetter = (row: DeadLetterRow): DeadLetter => ({
  id: BigInt(row.id),
  position: BigInt(row.position),
  eventId: row.event_id,
  transferId: row.transfer_id,
  error: row.error,
  attempts: Number(row.attempts),
  status: row.status,
  deadAt: row.dead_at,
  retryRequestedAt: row.retry_requested_at,
  resolvedAt: row.resolved_at,
  score: row.score === null ? null : Number(row.score),
});
