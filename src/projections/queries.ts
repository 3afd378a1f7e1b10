import { type Kysely, sql } from 'kysely';
import { Checkpoint } from '../platform/checkpoints';
import type { Tables } from '../platform/tables';
import { READ_MODELS_CHECKPOINT } from './projector';
import type { TransferStatus } from '../domain/transfer-state';
import { balanceFromIndex } from './time-index';
import { isoTimestamp } from '../platform/sql';

export interface AccountView {
  id: string;
  currency: string;
  normalSide: 'debit' | 'credit';
  flags: { debitsMustNotExceedCredits: boolean; creditsMustNotExceedDebits: boolean };
  status: 'open' | 'frozen' | 'closed';
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
  version: number;
  openedAt: string;
  code?: string;
  metadata: Record<string, string>;
  position: bigint;
}

export interface TransferView {
  id: string;
  debitAccountId: string;
  creditAccountId: string;
  amount: bigint;
  currency: string;
  status: TransferStatus;
  pendingAmount: bigint;
  postedAmount: bigint;
  reversedAmount: bigint;
  expiresAt?: string;
  reverses?: string;
  code?: string;
  reference?: string;
  metadata: Record<string, string>;
  effectiveAt: string;
  recordedAt: string;
  position: bigint;
}

export interface EntryView {
  transferId: string;
  side: 'debit' | 'credit';
  amount: bigint;
  balanceAfter: bigint;
  effectiveAt: string;
  recordedAt: string;
}

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
    const rows = await sql<{
      id: string;
      currency: string;
      normal_side: 'debit' | 'credit';
      flags: AccountView['flags'];
      status: AccountView['status'];
      debits_posted: string;
      credits_posted: string;
      debits_pending: string;
      credits_pending: string;
      version: string;
      opened_at: string;
      code: string | null;
      metadata: Record<string, string>;
      position: string;
    }>`select id, currency, normal_side, flags, status, debits_posted::text as debits_posted,
              credits_posted::text as credits_posted, debits_pending::text as debits_pending,
              credits_pending::text as credits_pending, version::text as version, ${isoTimestamp('opened_at')} as opened_at,
              code, metadata, position::text as position
       from rm_accounts where id = ${id}`.execute(this.db);
    const r = rows.rows[0];
    if (!r) return undefined;
    return {
      id: r.id,
      currency: r.currency,
      normalSide: r.normal_side,
      flags: r.flags,
      status: r.status,
      debitsPosted: BigInt(r.debits_posted),
      creditsPosted: BigInt(r.credits_posted),
      debitsPending: BigInt(r.debits_pending),
      creditsPending: BigInt(r.credits_pending),
      version: Number(r.version),
      openedAt: r.opened_at,
      ...(r.code !== null ? { code: r.code } : {}),
      metadata: r.metadata,
      position: BigInt(r.position),
    };
  }

  async transfer(id: string): Promise<TransferView | undefined> {
    const rows = await sql<{
      id: string;
      debit_account_id: string;
      credit_account_id: string;
      amount: string;
      currency: string;
      status: TransferStatus;
      pending_amount: string;
      posted_amount: string;
      reversed_amount: string;
      expires_at: string | null;
      reverses: string | null;
      code: string | null;
      reference: string | null;
      metadata: Record<string, string>;
      effective_at: string;
      recorded_at: string;
      position: string;
    }>`select id, debit_account_id, credit_account_id, amount::text as amount, currency, status,
              pending_amount::text as pending_amount, posted_amount::text as posted_amount,
              reversed_amount::text as reversed_amount, ${isoTimestamp('expires_at')} as expires_at, reverses,
              code, reference, metadata,
              ${isoTimestamp('effective_at')} as effective_at, ${isoTimestamp('recorded_at')} as recorded_at, position::text as position
       from rm_transfers where id = ${id}`.execute(this.db);
    const r = rows.rows[0];
    if (!r) return undefined;
    return {
      id: r.id,
      debitAccountId: r.debit_account_id,
      creditAccountId: r.credit_account_id,
      amount: BigInt(r.amount),
      currency: r.currency,
      status: r.status,
      pendingAmount: BigInt(r.pending_amount),
      postedAmount: BigInt(r.posted_amount),
      reversedAmount: BigInt(r.reversed_amount),
      ...(r.expires_at !== null ? { expiresAt: r.expires_at } : {}),
      ...(r.reverses !== null ? { reverses: r.reverses } : {}),
      ...(r.code !== null ? { code: r.code } : {}),
      ...(r.reference !== null ? { reference: r.reference } : {}),
      metadata: r.metadata,
      effectiveAt: r.effective_at,
      recordedAt: r.recorded_at,
      position: BigInt(r.position),
    };
  }

  /** An account's entries oldest first, after entry `afterSeq`; one more than asked tells if more remain. */
  async entries(
    accountId: string,
    afterSeq: bigint,
    limit: number,
  ): Promise<{ items: EntryView[]; lastSeq?: bigint; more: boolean }> {
    const rows = await sql<{
      seq: string;
      transfer_id: string;
      side: 'debit' | 'credit';
      amount: string;
      balance_after: string;
      effective_at: string;
      recorded_at: string;
    }>`select seq::text as seq, transfer_id, side, amount::text as amount, balance_after::text as balance_after,
              ${isoTimestamp('effective_at')} as effective_at, ${isoTimestamp('recorded_at')} as recorded_at
       from rm_entries where account_id = ${accountId} and seq > ${afterSeq.toString()}::bigint
       order by rm_entries.seq limit ${limit + 1}`.execute(this.db); // not `order by seq`: that is the text alias (1, 10, 11, …, 2)
    const more = rows.rows.length > limit;
    const page = rows.rows.slice(0, limit);
    return {
      items: page.map((r) => ({
        transferId: r.transfer_id,
        side: r.side,
        amount: BigInt(r.amount),
        balanceAfter: BigInt(r.balance_after),
        effectiveAt: r.effective_at,
        recordedAt: r.recorded_at,
      })),
      ...(page.length > 0 ? { lastSeq: BigInt(page.at(-1)!.seq) } : {}),
      more,
    };
  }

  /** Totals of the postings with effectiveAt <= asOf and recordedAt <= knownAt (the time-travel index, ADR 0005). */
  async balanceAt(accountId: string, asOf: string, knownAt: string): Promise<BalanceView | undefined> {
    const balance = await balanceFromIndex(this.db, accountId, asOf, knownAt);
    return balance && { accountId, ...balance };
  }
}
