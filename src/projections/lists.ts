import { type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import type { Tables } from '../platform/tables';
import { isoTimestamp } from '../platform/sql';
import { type BalanceHistory, balanceHistory } from './balance-history';
import {
  type AccountView,
  type TransferView,
  accountColumns,
  accountFromRow,
  transferColumns,
  transferFromRow,
} from './rows';

/**
 * The list reads (ADR 0025): accounts oldest first by (openedAt, id), transfers oldest first by
 * (recordedAt, id), each page read from a keyset after the last row of the page before. With the
 * indexes of migrations/0060 a page reads about `limit` index entries whatever the table's size.
 */

/** Where the previous page ended: the sort key of its last row. */
export interface Keyset {
  readonly at: string;
  readonly id: string;
}

export interface Page<T> {
  readonly items: T[];
  /** The sort key of the page's last row, when more rows follow. */
  readonly next?: Keyset;
}

export interface AccountFilter {
  readonly currency?: string;
  readonly status?: AccountView['status'];
  readonly code?: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly after?: Keyset;
  readonly limit: number;
}

export interface TransferFilter {
  readonly accountId?: string;
  readonly status?: string;
  /** Bounds on recordedAt, both included. */
  readonly from?: string;
  readonly to?: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly after?: Keyset;
  readonly limit: number;
}

type Db = Kysely<Tables>;

/** `metadata @> {...}` on jsonb: the GIN index's operator (the column is json, the index is on its cast). */
const containsMetadata = (metadata: Readonly<Record<string, string>>) =>
  sql<boolean>`(metadata::jsonb) @> ${JSON.stringify(metadata)}::jsonb`;

const hasKeys = (record: Readonly<Record<string, string>>) => Object.keys(record).length > 0;

export class ReadLists {
  constructor(private readonly db: Db) {}

  /** An account's balance at each instant as known at `knownAt` (src/projections/balance-history.ts). */
  history(accountId: string, instantsMs: readonly number[], knownAt: string): Promise<BalanceHistory | undefined> {
    return balanceHistory(this.db, accountId, instantsMs, knownAt);
  }

  /** When the account was opened (the history's default start), or undefined when there is no such account. */
  async openedAt(accountId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('rm_accounts')
      .select(isoTimestamp('opened_at').as('opened_at'))
      .where('id', '=', accountId)
      .executeTakeFirst();
    return row?.opened_at;
  }

  /** The page query of `accounts`, unexecuted (tests and the bench EXPLAIN it). */
  accountsQuery(filter: AccountFilter) {
    let query = this.db.selectFrom('rm_accounts').select(accountColumns);
    if (filter.currency !== undefined) query = query.where('currency', '=', filter.currency);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    if (filter.code !== undefined) query = query.where('code', '=', filter.code);
    if (hasKeys(filter.metadata)) query = query.where(containsMetadata(filter.metadata));
    if (filter.after) {
      const { at, id } = filter.after;
      query = query.where(({ eb, refTuple, tuple }) =>
        eb(refTuple('opened_at', 'id'), '>', tuple(sql<Date>`${at}::timestamptz`, id)),
      );
    }
    return query
      .orderBy('opened_at')
      .orderBy('id')
      .limit(filter.limit + 1);
  }

  async accounts(filter: AccountFilter): Promise<Page<AccountView>> {
    const rows = await this.accountsQuery(filter).execute();
    const page = rows.slice(0, filter.limit);
    const items = page.map(accountFromRow);
    const last = items.at(-1);
    return { items, ...(rows.length > filter.limit && last ? { next: { at: last.openedAt, id: last.id } } : {}) };
  }

  /** The page query of `transfers`, unexecuted (tests and the bench EXPLAIN it). */
  transfersQuery(filter: TransferFilter) {
    const n = filter.limit + 1;
    const filtered = <O>(
      query: SelectQueryBuilder<Tables, 'rm_transfers', O>,
    ): SelectQueryBuilder<Tables, 'rm_transfers', O> => {
      let q = query;
      if (filter.status !== undefined) {
        q = q.where('status', '=', filter.status);
        // Says what the partial index rm_transfers_unposted covers, so the planner may use it.
        if (filter.status !== 'posted') q = q.where('status', '<>', 'posted');
      }
      if (filter.from !== undefined) q = q.where('recorded_at', '>=', sql<Date>`${filter.from}::timestamptz`);
      if (filter.to !== undefined) q = q.where('recorded_at', '<=', sql<Date>`${filter.to}::timestamptz`);
      if (hasKeys(filter.metadata)) q = q.where(containsMetadata(filter.metadata));
      if (filter.after) {
        const { at, id } = filter.after;
        q = q.where(({ eb, refTuple, tuple }) =>
          eb(refTuple('recorded_at', 'id'), '>', tuple(sql<Date>`${at}::timestamptz`, id)),
        );
      }
      return q;
    };
    const columns = transferColumns;
    const base = this.db.selectFrom('rm_transfers');
    if (filter.accountId === undefined) {
      return filtered(base).select(columns).orderBy('recorded_at').orderBy('id').limit(n);
    }
    // The transfers an account debits and those it credits, each an ordered index scan of `n`
    // rows, merged: an OR of the two would read every transfer of the account and sort them.
    const side = (column: 'debit_account_id' | 'credit_account_id') =>
      filtered(base.where(column, '=', filter.accountId!))
        .select(columns)
        .orderBy('recorded_at')
        .orderBy('id')
        .limit(n);
    return this.db
      .selectFrom(
        this.db
          .selectFrom(side('debit_account_id').as('d'))
          .selectAll()
          .unionAll(this.db.selectFrom(side('credit_account_id').as('c')).selectAll())
          .as('t'),
      )
      .selectAll()
      .orderBy('recorded_at')
      .orderBy('id')
      .limit(n);
  }

  async transfers(filter: TransferFilter): Promise<Page<TransferView>> {
    const rows = await this.transfersQuery(filter).execute();
    const page = rows.slice(0, filter.limit);
    const items = page.map(transferFromRow);
    const last = items.at(-1);
    return { items, ...(rows.length > filter.limit && last ? { next: { at: last.recordedAt, id: last.id } } : {}) };
  }
}
