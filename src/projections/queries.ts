import type { Kysely } from 'kysely';
import { Checkpoint } from '../platform/checkpoints';
import type { Tables } from '../platform/tables';
import { READ_MODELS_CHECKPOINT } from './projector';
import { balanceFromIndex } from './time-index';
import {
  type AccountView,
  type EntryView,
  type TransferView,
  accountColumns,
  accountFromRow,
  entryColumns,
  entryFromRow,
  transferColumns,
  transferFromRow,
} from './rows';

export type { AccountView, EntryView, TransferView } from './rows';

export interface BalanceView {
  accountId: string;
  currency: string;
  normalSide: 'debit' | 'credit';
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
}

/** The query side: reads of the read models the projector keeps. */
export class ReadModels {
  constructor(private readonly db: Kysely<Tables>) {}

  /** Position of the global log the read models include. */
  async checkpoint(): Promise<bigint> {
    return (await new Checkpoint(READ_MODELS_CHECKPOINT).peek(this.db)) ?? 0n;
  }

  async account(id: string): Promise<AccountView | undefined> {
    const row = await this.db.selectFrom('rm_accounts').select(accountColumns).where('id', '=', id).executeTakeFirst();
    return row && accountFromRow(row);
  }

  async transfer(id: string): Promise<TransferView | undefined> {
    const row = await this.db
      .selectFrom('rm_transfers')
      .select(transferColumns)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && transferFromRow(row);
  }

  /** An account's entries oldest first, after entry `afterSeq`; one more than asked tells if more remain. */
  async entries(
    accountId: string,
    afterSeq: bigint,
    limit: number,
  ): Promise<{ items: EntryView[]; lastSeq?: bigint; more: boolean }> {
    const rows = await this.db
      .selectFrom('rm_entries')
      .select(entryColumns)
      .where('account_id', '=', accountId)
      .where('seq', '>', afterSeq.toString())
      .orderBy('seq')
      .limit(limit + 1)
      .execute();
    const page = rows.slice(0, limit);
    return {
      items: page.map(entryFromRow),
      ...(page.length > 0 ? { lastSeq: BigInt(page.at(-1)!.seq_text) } : {}),
      more: rows.length > limit,
    };
  }

  /** Totals of the postings with effectiveAt <= asOf and recordedAt <= knownAt (the time-travel index, ADR 0005). */
  async balanceAt(accountId: string, asOf: string, knownAt: string): Promise<BalanceView | undefined> {
    const balance = await balanceFromIndex(this.db, accountId, asOf, knownAt);
    return balance && { accountId, ...balance };
  }
}
