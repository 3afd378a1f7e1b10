import { openedAccount } from '../domain/account';
import type { AccountOpened, MoneyEvent } from '../domain/events';
import type { TransferStatus } from '../domain/transfer-state';
import type { RecordedEvent } from '../eventstore/port';
import { decodeEvent } from '../events/decode';

/** An account row of the read model as an AccountOpened starts it, with amounts as bigint. */
export interface AccountRow {
  id: string;
  currency: string;
  normalSide: 'debit' | 'credit';
  flags: unknown;
  status: string;
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
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
  /** Signed: holds add, releases (posts, voids, expiries) take back. */
  debitsPending: bigint;
  creditsPending: bigint;
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
  status: TransferStatus;
  pendingAmount: bigint;
  postedAmount: bigint;
  reversedAmount: bigint;
  expiresAt: string | null;
  reverses: string | null;
  code: string | null;
  reference: string | null;
  metadata: unknown;
  effectiveAt: string;
  recordedAt: string;
  /** Position of the last event that changed the transfer. */
  position: bigint;
}

/** What a page does to a transfer that existed before it (a hold it posts or releases, a transfer it reverses). */
export interface TransferDelta {
  id: string;
  pending: bigint;
  posted: bigint;
  reversed: bigint;
  /** How the page released what it held without a post, if it did: the status when nothing was posted. */
  releasedAs: 'voided' | 'expired' | null;
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

/** A change of an account's pending total, for the time index: + when a hold takes, − when a release gives back. */
export interface PendingRow {
  accountId: string;
  side: 'debit' | 'credit';
  /** Signed minor units. */
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
  /** Transfers this page starts, in their state after it. */
  readonly transfers: Map<string, TransferRow>;
  /** Transfers that existed before this page, with what it does to them. */
  readonly transferDeltas: Map<string, TransferDelta>;
  readonly entries: EntryRow[];
  readonly pendings: PendingRow[];
}

type Change = (id: string, position: bigint, apply: (d: AccountDelta | AccountRow) => void) => void;

/**
 * What a page of the global log does to the read models. Pure, and it needs no current rows: the
 * projector writes the result with set-based statements, in the transaction of its checkpoint.
 */
export function readModelChanges(events: readonly RecordedEvent[]): ReadModelChanges {
  const opened = new Map<string, AccountRow>();
  const deltas = new Map<string, AccountDelta>();
  const transfers = new Map<string, TransferRow>();
  const transferDeltas = new Map<string, TransferDelta>();
  const entries: EntryRow[] = [];
  const pendings: PendingRow[] = [];
  const ordinals = new Map<string, bigint>();
  const change: Change = (id, position, apply) => {
    const row: AccountDelta | AccountRow = opened.get(id) ?? deltas.get(id) ?? newDelta(deltas, id);
    apply(row);
    if ('versions' in row) row.versions += 1n;
    else row.version += 1n;
    row.position = position;
  };
  /** A transfer this page changes: its new row, or its delta against the stored row. */
  const changeTransfer = (id: string, position: bigint, apply: (t: TransferRow | TransferDelta) => void) => {
    const row: TransferRow | TransferDelta =
      transfers.get(id) ??
      transferDeltas.get(id) ??
      (transferDeltas
        .set(id, { id, pending: 0n, posted: 0n, reversed: 0n, releasedAs: null, position })
        .get(id) as TransferDelta);
    apply(row);
    row.position = position;
    // A hold this page started and used up by posts is posted (a void or expiry says its own status).
    if ('status' in row && row.status === 'pending' && row.pendingAmount === 0n && row.postedAmount > 0n) {
      row.status = 'posted';
    }
  };

  for (const recorded of events) {
    const event = decodeEvent(recorded);
    const at = recorded.position;
    switch (event.type) {
      case 'AccountOpened':
        opened.set(event.data.accountId, openedRow(event, at));
        break;
      case 'AccountFrozen':
      case 'AccountUnfrozen':
      case 'AccountClosed': {
        const status = event.type === 'AccountFrozen' ? 'frozen' : event.type === 'AccountUnfrozen' ? 'open' : 'closed';
        change(event.data.accountId, at, (row) => {
          row.status = status;
        });
        break;
      }
      case 'TransferPosted':
      case 'TransferPending':
      case 'TransferReversed': {
        const { data } = event;
        const amount = BigInt(data.amount);
        const held = event.type === 'TransferPending';
        transfers.set(data.transferId, {
          id: data.transferId,
          debitAccountId: data.debitAccountId,
          creditAccountId: data.creditAccountId,
          amount,
          currency: data.currency,
          status: held ? 'pending' : 'posted',
          pendingAmount: held ? amount : 0n,
          postedAmount: held ? 0n : amount,
          reversedAmount: 0n,
          expiresAt: event.type === 'TransferPending' ? (event.data.expiresAt ?? null) : null,
          reverses: event.type === 'TransferReversed' ? event.data.reverses : null,
          code: data.code ?? null,
          reference: data.reference ?? null,
          metadata: data.metadata,
          effectiveAt: data.effectiveAt,
          recordedAt: recorded.recordedAt,
          position: at,
        });
        if (event.type === 'TransferReversed') {
          changeTransfer(event.data.reverses, at, (t) => {
            if ('reversed' in t) t.reversed += amount;
            else t.reversedAmount += amount;
          });
        }
        if (held) pend(event, amount, data.effectiveAt, recorded, change, pendings, true);
        else post(event, amount, data.transferId, data.effectiveAt, recorded, change, ordinals, entries);
        break;
      }
      case 'PendingTransferPosted': {
        const posted = BigInt(event.data.amount);
        const taken = posted + BigInt(event.data.released);
        changeTransfer(event.data.transferId, at, (t) => {
          if ('posted' in t) {
            t.pending -= taken;
            t.posted += posted;
          } else {
            t.pendingAmount -= taken;
            t.postedAmount += posted;
          }
        });
        // The account's version moves once for the event: with the posting's entry, not the release.
        pend(event, -taken, event.data.effectiveAt, recorded, change, pendings, false);
        post(event, posted, event.data.transferId, event.data.effectiveAt, recorded, change, ordinals, entries);
        break;
      }
      case 'PendingTransferVoided':
      case 'PendingTransferExpired': {
        const released = BigInt(event.data.released);
        const releasedAs = event.type === 'PendingTransferVoided' ? 'voided' : 'expired';
        changeTransfer(event.data.transferId, at, (t) => {
          if ('posted' in t) {
            t.pending -= released;
            t.releasedAs = releasedAs;
          } else {
            t.pendingAmount -= released;
            if (t.pendingAmount === 0n && t.postedAmount === 0n) t.status = releasedAs;
          }
        });
        // A void's or expiry's release takes effect when it is recorded.
        pend(event, -released, recorded.recordedAt, recorded, change, pendings, true);
        break;
      }
      default:
        // Events of other features (fraud scores, …) do not change these read models.
        break;
    }
  }
  return { opened, deltas, transfers, transferDeltas, entries, pendings };
}

function newDelta(deltas: Map<string, AccountDelta>, id: string): AccountDelta {
  const delta: AccountDelta = {
    id,
    debits: 0n,
    credits: 0n,
    debitsPending: 0n,
    creditsPending: 0n,
    entries: 0n,
    versions: 0n,
    status: null,
    position: 0n,
  };
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
    debitsPending: account.debitsPending,
    creditsPending: account.creditsPending,
    entryCount: 0n,
    version: BigInt(account.version),
    openedAt: account.openedAt,
    code: account.code ?? null,
    metadata: account.metadata,
    position,
  };
}

const sidesOf = (event: MoneyEvent) =>
  [
    ['debit', event.data.debitAccountId],
    ['credit', event.data.creditAccountId],
  ] as const;

/** Posted money: an entry on each side, and the account's version moves. */
function post(
  event: MoneyEvent,
  amount: bigint,
  transferId: string,
  effectiveAt: string,
  recorded: RecordedEvent,
  change: Change,
  ordinals: Map<string, bigint>,
  entries: EntryRow[],
): void {
  for (const [side, accountId] of sidesOf(event)) {
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
      transferId,
      side,
      amount,
      effectiveAt,
      recordedAt: recorded.recordedAt,
      position: recorded.position,
    });
  }
}

/** Held money taken (+) or given back (−) on each side; `versioned`: this event's one version step is here. */
function pend(
  event: MoneyEvent,
  delta: bigint,
  effectiveAt: string,
  recorded: RecordedEvent,
  change: Change,
  pendings: PendingRow[],
  versioned: boolean,
): void {
  for (const [side, accountId] of sidesOf(event)) {
    const apply = (row: AccountDelta | AccountRow) => {
      if (side === 'debit') row.debitsPending += delta;
      else row.creditsPending += delta;
    };
    if (versioned) change(accountId, recorded.position, apply);
    else {
      // Without a version step: the posting that follows in the same event takes it.
      change(accountId, recorded.position, (row) => {
        apply(row);
        if ('versions' in row) row.versions -= 1n;
        else row.version -= 1n;
      });
    }
    if (delta !== 0n) {
      pendings.push({
        accountId,
        side,
        amount: delta,
        effectiveAt,
        recordedAt: recorded.recordedAt,
        position: recorded.position,
      });
    }
  }
}
