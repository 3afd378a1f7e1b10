import { type Kysely, sql } from 'kysely';
import { isoTimestamp } from '../platform/sql';
import type { Tables } from '../platform/tables';
import { balanceFromIndex } from '../projections/time-index';
import type { SignedTreeHead } from './tree-head';

/** Entries a statement may hold; a longer period is refused (ask for a shorter one), never cut short. */
export const STATEMENT_ENTRIES_MAX = 100_000;
const PAGE = 5_000;

export interface StatementEntry {
  readonly transferId: string;
  readonly side: 'debit' | 'credit';
  readonly amount: bigint;
  readonly effectiveAt: string;
  readonly recordedAt: string;
  readonly position: bigint;
  /** The account's balance after this entry, in statement order (effective time, then log order). */
  readonly balanceAfter: bigint;
}

export interface Statement {
  readonly accountId: string;
  readonly currency: string;
  readonly normalSide: 'debit' | 'credit';
  readonly from: string;
  readonly to: string;
  readonly knownAt: string;
  /** Balance of everything effective before `from`, as known at `knownAt`. */
  readonly openingBalance: bigint;
  readonly entries: readonly StatementEntry[];
  /** Balance of everything effective by `to`, as known at `knownAt`. */
  readonly closingBalance: bigint;
  /** The read models' place in the log the statement was read at. */
  readonly position: bigint;
  /** A signed head of a tree that holds every event the statement rests on (null where no tree is kept). */
  readonly treeHead: SignedTreeHead | null;
  /**
   * The books were closed through this instant as known at `knownAt` (null: nothing closed): entries
   * effective at or before it are of closed books, changed since only by approved adjustments (ADR 0033).
   */
  readonly closedThrough: string | null;
}

export class StatementAccountNotFoundError extends Error {}
export class StatementTooLargeError extends Error {}

/**
 * An account statement as known at `knownAt` (ADR 0005's time travel, over a period): the opening
 * balance, every entry effective in [from, to] and recorded by knownAt, and the closing balance,
 * all read in one snapshot of the read models, with a signed tree head covering them. Opening
 * plus entries must equal closing: asserted, since a statement that does not add up must not leave.
 */
export async function buildStatement(
  db: Kysely<Tables>,
  request: { accountId: string; from: string; to: string; knownAt: string },
  treeHeadCovering: (position: bigint) => Promise<SignedTreeHead | null>,
  closedThroughAt: (knownAt: string) => Promise<string | null>,
): Promise<Statement> {
  const { accountId, from, to, knownAt } = request;
  const read = await db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const checkpoint = await sql<{ position: string }>`
        select coalesce((select position::text from checkpoints where name = 'read-models'), '0') as position`.execute(
        trx,
      );
      const beforeFrom = new Date(Date.parse(from) - 1).toISOString();
      const opening = await balanceFromIndex(trx, accountId, beforeFrom, knownAt);
      if (!opening) throw new StatementAccountNotFoundError(`no account ${accountId}`);
      const closing = (await balanceFromIndex(trx, accountId, to, knownAt))!;
      const sign = (side: 'debit' | 'credit') => (side === opening.normalSide ? 1n : -1n);
      const signed = (b: { debitsPosted: bigint; creditsPosted: bigint }) =>
        opening.normalSide === 'credit' ? b.creditsPosted - b.debitsPosted : b.debitsPosted - b.creditsPosted;
      let balance = signed(opening);
      const entries: StatementEntry[] = [];
      let after: { effectiveAt: string; position: string } | undefined;
      for (;;) {
        const rows = await sql<{
          transfer_id: string;
          side: 'debit' | 'credit';
          amount: string;
          effective_at: string;
          recorded_at: string;
          position: string;
          effective_key: string;
        }>`select transfer_id, side, amount::text as amount, ${isoTimestamp('effective_at')} as effective_at,
                  ${isoTimestamp('recorded_at')} as recorded_at, position::text as position, effective_at::text as effective_key
           from rm_entries
           where account_id = ${accountId} and effective_at >= ${from}::timestamptz and effective_at <= ${to}::timestamptz
             and recorded_at <= ${knownAt}::timestamptz
             ${after ? sql`and (effective_at, position) > (${after.effectiveAt}::timestamptz, ${after.position}::numeric)` : sql``}
           order by effective_at, position limit ${PAGE}`.execute(trx);
        for (const row of rows.rows) {
          if (entries.length >= STATEMENT_ENTRIES_MAX)
            throw new StatementTooLargeError(
              `the statement holds more than ${STATEMENT_ENTRIES_MAX} entries; ask for a shorter period (from, to)`,
            );
          const amount = BigInt(row.amount);
          balance += sign(row.side) * amount;
          entries.push({
            transferId: row.transfer_id,
            side: row.side,
            amount,
            effectiveAt: row.effective_at,
            recordedAt: row.recorded_at,
            position: BigInt(row.position),
            balanceAfter: balance,
          });
        }
        if (rows.rows.length < PAGE) break;
        const last = rows.rows.at(-1)!;
        after = { effectiveAt: last.effective_key, position: last.position };
      }
      if (balance !== signed(closing))
        throw new Error(
          `statement of ${accountId} does not add up: opening plus entries is ${balance}, closing is ${signed(closing)}`,
        );
      return {
        opening,
        openingBalance: signed(opening),
        entries,
        closingBalance: balance,
        position: BigInt(checkpoint.rows[0]!.position),
      };
    });
  return {
    accountId,
    currency: read.opening.currency,
    normalSide: read.opening.normalSide,
    from,
    to,
    knownAt,
    openingBalance: read.openingBalance,
    entries: read.entries,
    closingBalance: read.closingBalance,
    position: read.position,
    treeHead: await treeHeadCovering(read.position),
    closedThrough: await closedThroughAt(knownAt),
  };
}

const csvField = (value: string | number | bigint | null | undefined): string => {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

const CSV_COLUMNS = [
  'kind',
  'accountId',
  'currency',
  'effectiveAt',
  'recordedAt',
  'transferId',
  'position',
  'side',
  'amount',
  'balance',
  'from',
  'to',
  'knownAt',
  'treeSize',
  'rootHash',
  'keyId',
  'signedAt',
  'signature',
  'closedThrough',
] as const;

/** One row per line: `opening` (with the period, the signed tree head and closedThrough), each `entry`, `closing`. */
export function statementCsv(s: Statement): string {
  const row = (values: Partial<Record<(typeof CSV_COLUMNS)[number], string | number | bigint | null>>) =>
    CSV_COLUMNS.map((column) => csvField(values[column])).join(',');
  const head = s.treeHead;
  const lines = [
    CSV_COLUMNS.join(','),
    row({
      kind: 'opening',
      accountId: s.accountId,
      currency: s.currency,
      balance: s.openingBalance,
      from: s.from,
      to: s.to,
      knownAt: s.knownAt,
      closedThrough: s.closedThrough,
      ...(head
        ? {
            treeSize: head.treeSize,
            rootHash: head.rootHash,
            keyId: head.keyId,
            signedAt: head.signedAt,
            signature: head.signature,
          }
        : {}),
    }),
    ...s.entries.map((e) =>
      row({
        kind: 'entry',
        accountId: s.accountId,
        currency: s.currency,
        effectiveAt: e.effectiveAt,
        recordedAt: e.recordedAt,
        transferId: e.transferId,
        position: e.position,
        side: e.side,
        amount: e.amount,
        balance: e.balanceAfter,
      }),
    ),
    row({ kind: 'closing', accountId: s.accountId, currency: s.currency, balance: s.closingBalance }),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** The JSON answer: money as decimal strings, positions as strings. */
export function statementJson(s: Statement) {
  return {
    accountId: s.accountId,
    currency: s.currency,
    normalSide: s.normalSide,
    from: s.from,
    to: s.to,
    knownAt: s.knownAt,
    openingBalance: s.openingBalance.toString(),
    entries: s.entries.map((e) => ({
      transferId: e.transferId,
      side: e.side,
      amount: e.amount.toString(),
      effectiveAt: e.effectiveAt,
      recordedAt: e.recordedAt,
      position: e.position.toString(),
      balanceAfter: e.balanceAfter.toString(),
    })),
    closingBalance: s.closingBalance.toString(),
    position: s.position.toString(),
    treeHead: s.treeHead,
    closedThrough: s.closedThrough,
  };
}
