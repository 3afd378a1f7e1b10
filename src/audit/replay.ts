import { balanceOf } from '../domain/account';
import type { DomainEvent } from '../domain/events';
import type { ReplayEvent } from '../eventstore/port';
import { decodeEvent } from '../events/decode';

/**
 * Where a replay reads the log: any event store (readAll, one page after another), or one with
 * dense positions that can read ranges of them at once (the PostgreSQL adapter's readForReplay).
 */
export interface ReplaySource {
  headPosition(): Promise<bigint>;
  readAll(options: { after: bigint; limit: number }): Promise<readonly ReplayEvent[]>;
  readForReplay?(range: { after: bigint; through: bigint }): Promise<readonly ReplayEvent[]>;
}

export interface ReplayRequest {
  readonly asOf: string;
  readonly knownAt: string;
  /** Only these accounts; all accounts known at `knownAt` when absent. */
  readonly accountIds?: readonly string[];
}

export interface ReplayedAccount {
  readonly accountId: string;
  readonly currency: string;
  readonly normalSide: 'debit' | 'credit';
  readonly debitsPosted: bigint;
  readonly creditsPosted: bigint;
  /** What holds still held at asOf, as known at knownAt. */
  readonly debitsPending: bigint;
  readonly creditsPending: bigint;
}

/**
 * Balances at asOf as known at knownAt, folded from the log's events alone (docs/contract.md,
 * "Time"): postings with effectiveAt <= asOf and recordedAt <= knownAt. Pure, and indifferent to
 * the order pages arrive in (sums commute; an opening is matched to its postings at the end), so
 * the log can be read by several connections at once. It never looks at a read model.
 */
export class ReplayFold {
  private readonly opened = new Map<string, { currency: string; normalSide: 'debit' | 'credit' }>();
  private readonly totals = new Map<string, Totals>();
  private readonly wanted: ReadonlySet<string> | undefined;
  eventsReplayed = 0;
  position = 0n;

  constructor(private readonly request: ReplayRequest) {
    this.wanted = request.accountIds ? new Set(request.accountIds) : undefined;
  }

  apply(events: readonly ReplayEvent[]): void {
    const { knownAt } = this.request;
    for (const event of events) {
      this.eventsReplayed++;
      if (event.position > this.position) this.position = event.position;
      const decoded = decodeEvent(event);
      if (event.recordedAt > knownAt) continue;
      if (decoded.type === 'AccountOpened') {
        const { data } = decoded;
        if (this.wanted && !this.wanted.has(data.accountId)) continue;
        this.opened.set(data.accountId, { currency: data.currency, normalSide: data.normalSide });
      } else {
        this.money(decoded, event.recordedAt);
      }
    }
  }

  /**
   * Postings count at their effectiveAt; a hold's amount counts as pending from its effectiveAt,
   * less its releases: a post's at the post's effectiveAt, a void's or expiry's at its recordedAt.
   */
  private money(typed: DomainEvent, recordedAt: string): void {
    const { asOf } = this.request;
    let posted = 0n;
    let pending = 0n;
    let effectiveAt: string;
    switch (typed.type) {
      case 'TransferPosted':
      case 'TransferReversed':
        posted = BigInt(typed.data.amount);
        effectiveAt = typed.data.effectiveAt;
        break;
      case 'TransferPending':
        pending = BigInt(typed.data.amount);
        effectiveAt = typed.data.effectiveAt;
        break;
      case 'PendingTransferPosted':
        posted = BigInt(typed.data.amount);
        pending = -(posted + BigInt(typed.data.released));
        effectiveAt = typed.data.effectiveAt;
        break;
      case 'PendingTransferVoided':
      case 'PendingTransferExpired':
        pending = -BigInt(typed.data.released);
        effectiveAt = recordedAt;
        break;
      default:
        return; // not a money event (fraud scores, …)
    }
    if (effectiveAt > asOf) return;
    const { debitAccountId, creditAccountId } = typed.data;
    if (!this.wanted || this.wanted.has(debitAccountId)) {
      const total = this.total(debitAccountId);
      total.debits += posted;
      total.debitsPending += pending;
    }
    if (!this.wanted || this.wanted.has(creditAccountId)) {
      const total = this.total(creditAccountId);
      total.credits += posted;
      total.creditsPending += pending;
    }
  }

  private total(accountId: string): Totals {
    let total = this.totals.get(accountId);
    if (!total)
      this.totals.set(accountId, (total = { debits: 0n, credits: 0n, debitsPending: 0n, creditsPending: 0n }));
    return total;
  }

  /** The accounts opened as known at knownAt (or those asked for), by id. */
  result(): ReplayedAccount[] {
    return [...this.opened]
      .map(([accountId, account]) => {
        const total = this.totals.get(accountId);
        return {
          accountId,
          ...account,
          debitsPosted: total?.debits ?? 0n,
          creditsPosted: total?.credits ?? 0n,
          debitsPending: total?.debitsPending ?? 0n,
          creditsPending: total?.creditsPending ?? 0n,
        };
      })
      .sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0));
  }

  /** Requested accounts the log did not know at knownAt. */
  missing(): string[] {
    return this.request.accountIds ? this.request.accountIds.filter((id) => !this.opened.has(id)) : [];
  }
}

interface Totals {
  debits: bigint;
  credits: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
}

export interface ReplayProgress {
  readonly eventsReplayed: number;
  readonly position: bigint;
  readonly head: bigint;
}

/** Ranges of positions read at once. */
const READS_IN_FLIGHT = 3;

/**
 * Reads the global log's positions in (from, head] into `fold`, a range of `pageSize` positions
 * at a time with several ranges in flight (the database formats rows while Node parses others).
 * Returns the head it read up to; events appended meanwhile are for the next call.
 */
export async function foldLog(
  store: ReplaySource,
  fold: ReplayFold,
  options: { pageSize: number; from?: bigint; onProgress?: (progress: ReplayProgress) => void },
): Promise<bigint> {
  const head = await store.headPosition();
  const from = options.from ?? 0n;
  if (head <= from) return from;
  if (!store.readForReplay) return foldPages(store, fold, head, { ...options, from });
  const readRange = store.readForReplay.bind(store);
  const size = BigInt(options.pageSize);
  let nextStart = from;
  const inFlight: Array<{ through: bigint; page: Promise<readonly ReplayEvent[]> }> = [];
  const request = () => {
    if (nextStart >= head) return;
    const through = nextStart + size < head ? nextStart + size : head;
    const page = readRange({ after: nextStart, through });
    page.catch(() => {}); // awaited in turn below; until then a failure must not count as unhandled
    inFlight.push({ through, page });
    nextStart = through;
  };
  for (let i = 0; i < READS_IN_FLIGHT; i++) request();
  while (inFlight.length > 0) {
    const { through, page } = inFlight.shift()!;
    fold.apply(await page);
    options.onProgress?.({ eventsReplayed: fold.eventsReplayed, position: through, head });
    request();
  }
  return head;
}

/** Positions that are not dense (EventStoreDB packs them): one page after another, the next one on its way. */
async function foldPages(
  store: ReplaySource,
  fold: ReplayFold,
  head: bigint,
  options: { pageSize: number; from: bigint; onProgress?: (progress: ReplayProgress) => void },
): Promise<bigint> {
  let after = options.from;
  let next = store.readAll({ after, limit: options.pageSize });
  next.catch(() => {});
  for (;;) {
    const page = (await next).filter((event) => event.position <= head);
    if (page.length === 0) return head;
    after = page.at(-1)!.position;
    next = store.readAll({ after, limit: options.pageSize });
    next.catch(() => {});
    fold.apply(page);
    options.onProgress?.({ eventsReplayed: fold.eventsReplayed, position: after, head });
    if (after >= head) return head;
  }
}

export interface ReplayReportAccount {
  readonly accountId: string;
  readonly currency: string;
  readonly balance: string;
  readonly debitsPosted: string;
  readonly creditsPosted: string;
  /** The read model's balance at the same asOf and knownAt; null when it has no such account. */
  readonly readModelBalance: string | null;
  readonly matches: boolean;
}

/** POST /v1/audit/replay's body (docs/contract.md, "HTTP v1"). */
export interface ReplayReport {
  readonly asOf: string;
  readonly knownAt: string;
  readonly eventsReplayed: number;
  readonly accounts: ReplayReportAccount[];
  readonly mismatches: number;
}

/** What the replay compares against: the read model's balance at (asOf, knownAt), by the index. */
export type ReadModelBalance = (
  accountId: string,
  asOf: string,
  knownAt: string,
) => Promise<
  | {
      debitsPosted: bigint;
      creditsPosted: bigint;
      debitsPending: bigint;
      creditsPending: bigint;
      normalSide: 'debit' | 'credit';
    }
  | undefined
>;

/** Every total a replay checks: posted and pending, both sides (+1 on each would leave a balance right). */
const totalsKey = (t: { debitsPosted: bigint; creditsPosted: bigint; debitsPending: bigint; creditsPending: bigint }) =>
  `${t.debitsPosted}/${t.creditsPosted}/${t.debitsPending}/${t.creditsPending}`;

export class NotCaughtUpError extends Error {
  constructor(readonly position: bigint) {
    super(`the read models have not reached position ${position} of the log`);
  }
}

export class UnknownAccountsError extends Error {
  constructor(
    readonly accountIds: readonly string[],
    knownAt: string,
  ) {
    super(`no account ${accountIds.join(', ')} as known at ${knownAt}`);
  }
}

const COMPARE_ROUNDS_MAX = 5;

/**
 * A replay from the event store, compared account by account with the read models. The read models
 * are consulted only for `readModelBalance`, after they have caught up with the last position
 * replayed; events committed meanwhile are folded in and their accounts compared again, so a
 * busy ledger does not show passing writes as mismatches.
 */
export async function replayAndCompare(
  store: ReplaySource,
  request: ReplayRequest,
  deps: {
    readModelBalance: ReadModelBalance;
    /** Resolves true once the read models include `position`. */
    waitForReadModels: (position: bigint) => Promise<boolean>;
    pageSize: number;
    onProgress?: (progress: ReplayProgress) => void;
  },
): Promise<ReplayReport> {
  const fold = new ReplayFold(request);
  let position = await foldLog(store, fold, { pageSize: deps.pageSize, onProgress: deps.onProgress });
  const missing = fold.missing();
  if (missing.length > 0) throw new UnknownAccountsError(missing, request.knownAt);

  const readModel = new Map<string, { balance: string; totals: string } | null>();
  let toCompare = fold.result().map((a) => a.accountId);
  for (let round = 1; ; round++) {
    if (!(await deps.waitForReadModels(position))) throw new NotCaughtUpError(position);
    for (const accountId of toCompare) {
      const view = await deps.readModelBalance(accountId, request.asOf, request.knownAt);
      readModel.set(accountId, view ? { balance: balanceOf(view).toString(), totals: totalsKey(view) } : null);
    }
    const before = new Map(fold.result().map((a) => [a.accountId, totalsKey(a)]));
    const moved = await foldLog(store, fold, { pageSize: deps.pageSize, from: position });
    if (moved === position || round >= COMPARE_ROUNDS_MAX) break;
    position = moved;
    toCompare = fold
      .result()
      .filter((a) => before.get(a.accountId) !== totalsKey(a))
      .map((a) => a.accountId);
    if (toCompare.length === 0) break;
  }

  const accounts = fold.result().map((account): ReplayReportAccount => {
    const balance = balanceOf(account).toString();
    const fromReadModel = readModel.get(account.accountId) ?? null;
    const readModelBalance = fromReadModel?.balance ?? null;
    return {
      accountId: account.accountId,
      currency: account.currency,
      balance,
      debitsPosted: account.debitsPosted.toString(),
      creditsPosted: account.creditsPosted.toString(),
      readModelBalance,
      // Both totals, not only their difference: +1 on each side would leave the balance right.
      matches: fromReadModel?.totals === totalsKey(account),
    };
  });
  return {
    asOf: request.asOf,
    knownAt: request.knownAt,
    eventsReplayed: fold.eventsReplayed,
    accounts,
    mismatches: accounts.filter((a) => !a.matches).length,
  };
}
