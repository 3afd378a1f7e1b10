import type { ExpressionBuilder } from 'kysely';
import type { TransferStatus } from '../domain/transfer-state';
import { isoTimestamp } from '../platform/sql';
import type { Tables } from '../platform/tables';
import type { ReadModelTables } from './schema';

/**
 * The read models' rows as the queries answer them: one selection and one mapper per table, used by
 * every read (ReadModels, ReadLists), so an account or a transfer has one shape from the table to
 * the answer. numeric and int8 columns travel as decimal text (exact beyond 2^53) and become bigint
 * here; timestamps travel as the contract's ISO text (platform/sql.ts).
 */

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

export const accountColumns = (eb: ExpressionBuilder<Tables, 'rm_accounts'>) =>
  [
    'id',
    'currency',
    'normal_side',
    'flags',
    'status',
    eb.cast<string>('debits_posted', 'text').as('debits_posted'),
    eb.cast<string>('credits_posted', 'text').as('credits_posted'),
    eb.cast<string>('debits_pending', 'text').as('debits_pending'),
    eb.cast<string>('credits_pending', 'text').as('credits_pending'),
    eb.cast<string>('version', 'text').as('version'),
    isoTimestamp('opened_at').as('opened_at_iso'),
    'code',
    'metadata',
    eb.cast<string>('position', 'text').as('position'),
  ] as const;

/** A row as accountColumns selects it: the table's columns, opened_at as ISO text. */
export type AccountSelection = Omit<ReadModelTables['rm_accounts'], 'opened_at' | 'entry_count'> & {
  opened_at_iso: string;
};

/** The columns' values are what the projector wrote from the domain's events (their check constraints hold them). */
export const accountFromRow = (r: AccountSelection): AccountView => ({
  id: r.id,
  currency: r.currency,
  normalSide: r.normal_side as AccountView['normalSide'],
  flags: r.flags as AccountView['flags'],
  status: r.status as AccountView['status'],
  debitsPosted: BigInt(r.debits_posted),
  creditsPosted: BigInt(r.credits_posted),
  debitsPending: BigInt(r.debits_pending),
  creditsPending: BigInt(r.credits_pending),
  version: Number(r.version),
  openedAt: r.opened_at_iso,
  ...(r.code !== null ? { code: r.code } : {}),
  metadata: r.metadata as Record<string, string>,
  position: BigInt(r.position),
});

export const transferColumns = (eb: ExpressionBuilder<Tables, 'rm_transfers'>) =>
  [
    'id',
    'debit_account_id',
    'credit_account_id',
    eb.cast<string>('amount', 'text').as('amount'),
    'currency',
    'status',
    eb.cast<string>('pending_amount', 'text').as('pending_amount'),
    eb.cast<string>('posted_amount', 'text').as('posted_amount'),
    eb.cast<string>('reversed_amount', 'text').as('reversed_amount'),
    isoTimestamp('expires_at').as('expires_at_iso'),
    'reverses',
    'code',
    'reference',
    'metadata',
    'recorded_at',
    isoTimestamp('effective_at').as('effective_at_iso'),
    isoTimestamp('recorded_at').as('recorded_at_iso'),
    eb.cast<string>('position', 'text').as('position'),
  ] as const;

/** A row as transferColumns selects it: the table's columns, times as ISO text. */
export type TransferSelection = Omit<ReadModelTables['rm_transfers'], 'expires_at' | 'effective_at' | 'recorded_at'> & {
  expires_at_iso: string | null;
  effective_at_iso: string;
  recorded_at_iso: string;
};

export const transferFromRow = (r: TransferSelection): TransferView => ({
  id: r.id,
  debitAccountId: r.debit_account_id,
  creditAccountId: r.credit_account_id,
  amount: BigInt(r.amount),
  currency: r.currency,
  status: r.status as TransferView['status'],
  pendingAmount: BigInt(r.pending_amount),
  postedAmount: BigInt(r.posted_amount),
  reversedAmount: BigInt(r.reversed_amount),
  ...(r.expires_at_iso !== null ? { expiresAt: r.expires_at_iso } : {}),
  ...(r.reverses !== null ? { reverses: r.reverses } : {}),
  ...(r.code !== null ? { code: r.code } : {}),
  ...(r.reference !== null ? { reference: r.reference } : {}),
  metadata: r.metadata as Record<string, string>,
  effectiveAt: r.effective_at_iso,
  recordedAt: r.recorded_at_iso,
  position: BigInt(r.position),
});

export const entryColumns = (eb: ExpressionBuilder<Tables, 'rm_entries'>) =>
  [
    // Not aliased `seq`: ordering by the text alias would sort 1, 10, 11, …, 2.
    eb.cast<string>('seq', 'text').as('seq_text'),
    'transfer_id',
    'side',
    eb.cast<string>('amount', 'text').as('amount'),
    eb.cast<string>('balance_after', 'text').as('balance_after'),
    isoTimestamp('effective_at').as('effective_at_iso'),
    isoTimestamp('recorded_at').as('recorded_at_iso'),
  ] as const;

/** A row as entryColumns selects it (what an answer shows), times as ISO text. */
export type EntrySelection = Pick<
  ReadModelTables['rm_entries'],
  'transfer_id' | 'side' | 'amount' | 'balance_after'
> & {
  effective_at_iso: string;
  recorded_at_iso: string;
};

export const entryFromRow = (r: EntrySelection): EntryView => ({
  transferId: r.transfer_id,
  side: r.side as EntryView['side'],
  amount: BigInt(r.amount),
  balanceAfter: BigInt(r.balance_after),
  effectiveAt: r.effective_at_iso,
  recordedAt: r.recorded_at_iso,
});
