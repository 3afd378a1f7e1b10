import { openedAccount } from '../domain/account';
import type { AccountOpened, LedgerEvent, TransferPosted } from '../domain/events';
import type { RecordedEvent } from '../eventstore/port';

/** An account row of the read model as an AccountOpened starts it, with amounts as bigint. */
export interface AccountRow {
  id: string;
  currency: string;
  normalSide: 'debit' | 'credit';
  flags: unknown;
  status: string;
  debitsPosted: bigint;
  creditsPosted: bigint;
  entryCount: bigint;
  version: bigint;
  openedAt: string;
  code: string | null;
  metadata: unknown;
  position: bigint;
}

/**
 * What a page of the log adds to an account that existed before it: applied by one set-based
 * UPDATE (`x = x + delta`), so the projector never reads the rows it changes.
 */
export interface AccountDelta {
  id: string;
  debits: bigint;
  credits: bigint;
  entries: bigint;
  versions: bigint;
  /** The last status the page gives it, if any. */
  status: string | null;
  position: bigint;
}

export interface TransferRow {
  id: string;
  debitAccountId: string;
  creditAccountId: string;
  amount: bigint;
  currency: string;
  code: string | null;
  reference: string | null;
  metadata: unknown;
  effectiveAt: string;
  recordedAt: string;
  position: bigint;
}

/**
 * One side of a posting. Its `seq` and `balanceAfter` are computed where the account's row is, by
 * the statement that inserts it: the row's entry count and balance before the page, plus the
 * running count and sum of the page's entries of that account (in `ordinal` order).
 */
export interface EntryRow {
  accountId: string;
  /** 1, 2, … among this page's entries of the account, in log order. */
  ordinal: bigint;
  transferId: string;
  side: 'debit' | 'credit';
  amount: bigint;
  effectiveAt: string;
  recordedAt: string;
  position: bigint;
}

export interface ReadModelChanges {
  /** Accounts this page opens, in their state after it (their deltas folded in). */
  readonly opened: Map<string, AccountRow>;
  /** Accounts that existed before this page, with what it adds to them. */
  readonly deltas: Map<string, AccountDelta>;
  readonly transfers: TransferRow[];
  readonly entries: EntryRow[];
}

/**
 * What a page of the global log does to the read models. Pure, and it needs no current rows: the
 * projector writes the result with set-based statements, in the transaction of its checkpoint.
 */
export function readModelChanges(events: readonly RecordedEvent[]): ReadModelChanges {
  const opened = new Map<string, AccountRow>();
  const deltas = new Map<string, AccountDelta>();
  const transfers: TransferRow[] = [];
  const entries: EntryRow[] = [];
  const ordinals = new Map<string, bigint>();
  const change = (id: string, position: bigint, apply: (d: AccountDelta | AccountRow) => void) => {
    const row: AccountDelta | AccountRow = opened.get(id) ?? deltas.get(id) ?? newDelta(deltas, id);
    apply(row);
    if ('versions' in row) row.versions += 1n;
    else row.version += 1n;
    row.position = position;
  };

  for (const recorded of events) {
    const event = { type: recorded.type, data: recorded.data } as LedgerEvent;
    switch (event.type) {
      case 'AccountOpened':
        opened.set(event.data.accountId, openedRow(event, recorded.position));
        break;
      case 'AccountFrozen':
      case 'AccountUnfrozen':
      case 'AccountClosed': {
        const status = event.type === 'AccountFrozen' ? 'frozen' : event.type === 'AccountUnfrozen' ? 'open' : 'closed';
        change(event.data.accountId, recorded.position, (row) => {
          row.status = status;
        });
        break;
      }
      case 'TransferPosted':
        posted(event, recorded, change, ordinals, transfers, entries);
        break;
      default:
        // Events of other features (fraud scores, …) do not change these read models.
        break;
    }
  }
  return { opened, deltas, transfers, entries };
}

function newDelta(deltas: Map<string, AccountDelta>, id: string): AccountDelta {
  const delta: AccountDelta = { id, debits: 0n, credits: 0n, entries: 0n, versions: 0n, status: null, position: 0n };
  deltas.set(id, delta);
  return delta;
}

/** The domain's own account at opening, plus what only the read model keeps. */
function openedRow(event: AccountOpened, position: bigint): AccountRow {
  const account = openedAccount(event);
  return {
    id: account.id,
    currency: account.currency,
    normalSide: account.normalSide,
    flags: account.flags,
    status: account.status,
    debitsPosted: account.debitsPosted,
    creditsPosted: account.creditsPosted,
    entryCount: 0n,
    version: BigInt(account.version),
    openedAt: account.openedAt,
    code: account.code ?? null,
    metadata: account.metadata,
    position,
  };
}

function posted(
  event: TransferPosted,
  recorded: RecordedEvent,
  change: (id: string, position: bigint, apply: (row: AccountDelta | AccountRow) => void) => void,
  ordinals: Map<string, bigint>,
  transfers: TransferRow[],
  entries: EntryRow[],
): void {
  const { data } = event;
  const amount = BigInt(data.amount);
  transfers.push({
    id: data.transferId,
    debitAccountId: data.debitAccountId,
    creditAccountId: data.creditAccountId,
    amount,
    currency: data.currency,
    code: data.code ?? null,
    reference: data.reference ?? null,
    metadata: data.metadata,
    effectiveAt: data.effectiveAt,
    recordedAt: recorded.recordedAt,
    position: recorded.position,
  });
  for (const side of ['debit', 'credit'] as const) {
    const accountId = side === 'debit' ? data.debitAccountId : data.creditAccountId;
    change(accountId, recorded.position, (row) => {
      if ('debits' in row) {
        if (side === 'debit') row.debits += amount;
        else row.credits += amount;
        row.entries += 1n;
      } else {
        if (side === 'debit') row.debitsPosted += amount;
        else row.creditsPosted += amount;
        row.entryCount += 1n;
      }
    });
    const ordinal = (ordinals.get(accountId) ?? 0n) + 1n;
    ordinals.set(accountId, ordinal);
    entries.push({
      accountId,
      ordinal,
      transferId: data.transferId,
      side,
      amount,
      effectiveAt: data.effectiveAt,
      recordedAt: recorded.recordedAt,
      position: recorded.position,
    });
  }
}
