import { createHash, randomUUID } from 'node:crypto';
import { type Account, evolveAccount, openedAccount } from '../../src/domain/account';
import { encodeAccountSnapshot } from '../../src/domain/account-snapshot';
import { type AccountOpened, type TransferPosted, accountStream, transferStream } from '../../src/domain/events';
import { canonicalJson, chainHash } from '../../src/eventstore/hash-chain';
import { type EventStore, type EventToAppend, expect as rev } from '../../src/eventstore/port';

/**
 * An account with a long history, built fast: the events the write path would append (its
 * AccountOpened, TransferPosted with links into both accounts, the snapshots it keeps), appended
 * through the event store port in large chunks instead of one request each. Every event is real:
 * hash-chained, in order, with expected revisions; only the batching is the fixture's.
 */
export interface BigAccountPlan {
  /** The constrained (debitsMustNotExceedCredits), credit-normal account. */
  readonly accountId: string;
  /** The unconstrained, debit-normal counterparty. */
  readonly bankId: string;
  /** Credits of 1 from the bank, then debits of `debitAmount` back to the bank. */
  readonly credits: number;
  readonly debits: number;
  readonly debitAmount: bigint;
  /** Events per append. */
  readonly chunk?: number;
}

export interface BigAccount {
  readonly account: Account;
  readonly bank: Account;
  /** Entries (postings) in the account's stream. */
  readonly entries: number;
}

const openedAt = new Date(Date.now() - 60_000).toISOString();

function opened(id: string, normalSide: 'debit' | 'credit', guarded: boolean): AccountOpened {
  return {
    type: 'AccountOpened',
    data: {
      accountId: id,
      currency: 'USD',
      normalSide,
      flags: { debitsMustNotExceedCredits: guarded, creditsMustNotExceedDebits: false },
      metadata: {},
      openedAt,
    },
  };
}

const toAppend = (streamId: string, event: { type: string; data: object }, alsoIn?: string[]): EventToAppend => ({
  eventId: randomUUID(),
  streamId,
  type: event.type,
  data: event.data as Record<string, unknown>,
  metadata: {
    correlationId: randomUUID(),
    causationId: randomUUID(),
    commandHash: createHash('sha256').update(JSON.stringify(event.data)).digest('hex'),
  },
  ...(alsoIn ? { alsoIn } : {}),
});

/** Opens the big account and its counterparty through the port like any append, snapshots included. */
async function openBoth(store: EventStore, plan: BigAccountPlan): Promise<{ account: Account; bank: Account }> {
  const accountStreamId = accountStream(plan.accountId);
  const bankStreamId = accountStream(plan.bankId);
  const openAccount = opened(plan.accountId, 'credit', true);
  const openBank = opened(plan.bankId, 'debit', false);
  const account = openedAccount(openAccount);
  const bank = openedAccount(openBank);
  await store.append({
    events: [toAppend(accountStreamId, openAccount), toAppend(bankStreamId, openBank)],
    expected: new Map([
      [accountStreamId, rev.noStream],
      [bankStreamId, rev.noStream],
    ]),
    recordedAt: openedAt,
    snapshots: [
      { streamId: accountStreamId, data: encodeAccountSnapshot(account) },
      { streamId: bankStreamId, data: encodeAccountSnapshot(bank) },
    ],
  });
  return { account, bank };
}

export async function buildBigAccount(store: EventStore, plan: BigAccountPlan): Promise<BigAccount> {
  const chunk = plan.chunk ?? 20_000;
  const accountStreamId = accountStream(plan.accountId);
  const bankStreamId = accountStream(plan.bankId);
  let { account, bank } = await openBoth(store, plan);

  const total = plan.credits + plan.debits;
  const runId = randomUUID().slice(0, 8);
  for (let from = 0; from < total; from += chunk) {
    const recordedAt = new Date().toISOString();
    const expected = new Map([
      [accountStreamId, rev.at(BigInt(account.version - 1))],
      [bankStreamId, rev.at(BigInt(bank.version - 1))],
    ]);
    const events: EventToAppend[] = [];
    for (let i = from; i < Math.min(total, from + chunk); i++) {
      const credit = i < plan.credits;
      const transferId = `fixture-${runId}-${i}`;
      const posted: TransferPosted = {
        type: 'TransferPosted',
        data: {
          transferId,
          debitAccountId: credit ? plan.bankId : plan.accountId,
          creditAccountId: credit ? plan.accountId : plan.bankId,
          amount: (credit ? 1n : plan.debitAmount).toString(),
          currency: 'USD',
          metadata: {},
          effectiveAt: recordedAt,
        },
      };
      account = evolveAccount(account, posted);
      bank = evolveAccount(bank, posted);
      events.push(
        toAppend(transferStream(transferId), posted, [
          accountStream(posted.data.debitAccountId),
          accountStream(posted.data.creditAccountId),
        ]),
      );
    }
    await store.append({
      events,
      expected,
      recordedAt,
      snapshots: [
        { streamId: accountStreamId, data: encodeAccountSnapshot(account) },
        { streamId: bankStreamId, data: encodeAccountSnapshot(bank) },
      ],
    });
  }
  return { account, bank, entries: total };
}

/**
 * The same account on PostgreSQL, built where the rows are: each chunk's events, links and heads
 * are generated by one set-based statement from `generate_series`, exactly as the adapter writes
 * them (same columns, canonical JSON, dense positions after the log head, links at the accounts'
 * next revisions, the snapshot the append would keep), with the hash chain computed here, event by
 * event, over the same canonical text (so the chain verifies). A million entries take seconds;
 * through the port's parameter arrays they took minutes (issue 10).
 */
export async function buildBigAccountInPostgres(
  query: (text: string, params?: unknown[]) => Promise<unknown[]>,
  store: EventStore,
  plan: BigAccountPlan,
): Promise<BigAccount> {
  const chunk = plan.chunk ?? 100_000;
  const accountStreamId = accountStream(plan.accountId);
  const bankStreamId = accountStream(plan.bankId);
  let { account, bank } = await openBoth(store, plan);
  const runId = randomUUID().slice(0, 8);
  const correlationId = randomUUID();
  const metadataJson = canonicalJson({ correlationId, causationId: correlationId });
  const total = plan.credits + plan.debits;
  for (let from = 0; from < total; from += chunk) {
    const count = Math.min(total, from + chunk) - from;
    const recordedAt = new Date().toISOString();
    const [head] = (await query(
      `select position::text as position, encode(hash, 'hex') as hash from log_head`,
    )) as Array<{
      position: string;
      hash: string;
    }>;
    const [heads] = (await query(
      `select (select revision from stream_heads where stream_id = $1)::text as account,
              (select revision from stream_heads where stream_id = $2)::text as bank`,
      [accountStreamId, bankStreamId],
    )) as Array<{ account: string; bank: string }>;
    let position = BigInt(head!.position);
    let prevHash = head!.hash;
    const hashes: string[] = [];
    const prevHashes: string[] = [];
    const dataOf = (i: number) => {
      const credit = i < plan.credits;
      return {
        amount: (credit ? 1n : plan.debitAmount).toString(),
        creditAccountId: credit ? plan.accountId : plan.bankId,
        currency: 'USD',
        debitAccountId: credit ? plan.bankId : plan.accountId,
        effectiveAt: recordedAt,
        metadata: {},
        transferId: `fixture-${runId}-${i}`,
      };
    };
    for (let k = 0; k < count; k++) {
      const i = from + k;
      const data = dataOf(i);
      position += 1n;
      const hash = chainHash(
        prevHash,
        {
          position,
          eventId: fixtureEventId(runId, i),
          streamId: transferStream(data.transferId),
          revision: 0n,
          type: 'TransferPosted',
          recordedAt,
        },
        canonicalJson(data),
        metadataJson,
      );
      hashes.push(hash);
      prevHashes.push(prevHash);
      prevHash = hash;
      const posted: TransferPosted = { type: 'TransferPosted', data };
      account = evolveAccount(account, posted);
      bank = evolveAccount(bank, posted);
    }
    const firstDebit = Math.max(0, plan.credits - from); // k at which this chunk's debits start
    // Positions head+1.., links at each account's next revisions: generated, not sent.
    await query(
      `with rows as (
         select k, $1::bigint + k as position, h.hash, h.prev_hash,
                case when k <= $9 then $10 else $11 end as debit_id,
                case when k <= $9 then $11 else $10 end as credit_id,
                case when k <= $9 then '1' else $12 end as amount,
                'fixture-' || $2 || '-' || ($3::int + k - 1) as transfer_id
         from unnest($8::text[], $7::text[]) with ordinality as h(hash, prev_hash, k)
       ), new_events as (
         insert into events (position, event_id, stream_id, revision, type, data, metadata, recorded_at, prev_hash, hash)
         select position, ('00000000-0000-4000-8000-' || $2 || lpad(to_hex($3::int + k - 1), 8, '0'))::uuid,
                'transfer-' || transfer_id, 0, 'TransferPosted',
                ('{"amount":"' || amount || '","creditAccountId":' || to_json(credit_id)::text || ',"currency":"USD","debitAccountId":'
                  || to_json(debit_id)::text || ',"effectiveAt":"' || $5 || '","metadata":{},"transferId":"' || transfer_id || '"}')::json,
                $6::json, $5::timestamptz,
                decode(prev_hash, 'hex'), decode(hash, 'hex')
         from rows returning 1
       ), new_links as (
         insert into stream_links (stream_id, revision, position)
         select 'account-' || debit_id, case when debit_id = $10 then $13::bigint else $14::bigint end + k, position from rows
         union all
         select 'account-' || credit_id, case when credit_id = $10 then $13::bigint else $14::bigint end + k, position from rows
         returning 1
       ), new_heads as (
         insert into stream_heads (stream_id, revision) select 'transfer-' || transfer_id, 0 from rows returning 1
       )
       update log_head set position = $1::bigint + $4::int, hash = decode($15, 'hex'), recorded_at = $5::timestamptz`,
      [
        head!.position,
        runId.slice(0, 4),
        from,
        count,
        recordedAt,
        metadataJson,
        prevHashes,
        hashes,
        Math.min(count, firstDebit),
        plan.bankId,
        plan.accountId,
        plan.debitAmount.toString(),
        heads!.bank,
        heads!.account,
        prevHash,
      ],
    );
    await query(
      `update stream_heads h set revision = x.r, snapshot = x.s::json, snapshot_revision = x.r,
         snapshot_position = $5::bigint
       from (values ($1, $2::bigint, $3), ($4, $6::bigint, $7)) as x(id, r, s) where h.stream_id = x.id`,
      [
        accountStreamId,
        (BigInt(heads!.account) + BigInt(count)).toString(),
        JSON.stringify(encodeAccountSnapshot(account)),
        bankStreamId,
        position.toString(),
        (BigInt(heads!.bank) + BigInt(count)).toString(),
        JSON.stringify(encodeAccountSnapshot(bank)),
      ],
    );
  }
  return { account, bank, entries: total };
}

/** The fixture's event ids: a UUID made of the run and the entry's index, so SQL and the hash agree. */
function fixtureEventId(runId: string, i: number): string {
  return `00000000-0000-4000-8000-${runId.slice(0, 4)}${i.toString(16).padStart(8, '0')}`;
}
