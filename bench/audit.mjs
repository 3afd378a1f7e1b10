// Audit benchmarks (issue 3), against PostgreSQL directly, with the compiled service's own code:
//   1. as-of / known-at balance latency (p50, p99) on one account with 1,000,000 entries, random T and K;
//   2. replay rate from the PostgreSQL event store (events/s);
//   3. the hash chain's cost on the write path: the event store's append with the real hash vs the
//      chain step stubbed inside ledger_append (a bench schema of its own);
//   4. Merkle proofs (bench/audit-merkle.mjs): proof sizes and times at 1M and 10M events.
// BENCH_AUDIT_ONLY=merkle runs phase 4 alone.
// Works in fresh schemas of BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) and
// drops them afterwards. BENCH_QUICK=1: 100,000 entries and fewer rounds. `npm run bench:audit`.
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchMerkle } from './audit-merkle.mjs';
import { dist, require } from './lib/dist.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { openDatabase } = dist('platform/database.js');
const { migrate } = dist('platform/migrations.js');
const { PostgresEventStore } = dist('eventstore/postgres-event-store.js');
const { ReadModels } = dist('projections/queries.js');
const { ReplayFold, foldLog } = dist('audit/replay.js');
const { Writer } = dist('commands/writer.js');
const { AccountStates } = dist('commands/account-states.js');
const { sql } = require('kysely');

const QUICK = process.env.BENCH_QUICK === '1';
const URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ENTRIES = QUICK ? 100_000 : 1_000_000;
const QUERIES = QUICK ? 500 : 3000;
const BACKDATED_EVERY = 100; // 1% of postings are corrections
const BACKDATE_MAX_MS = 90 * 86_400_000; // by up to 90 days
const SPAN_MS = 365 * 86_400_000; // over one year
const APPEND_EVENTS = QUICK ? 20_000 : 40_000;
const APPEND_BATCH = 500;
const ROUNDS = QUICK ? 2 : 3;
const WRITER_TRANSFERS = QUICK ? 12_000 : 40_000;
const WRITER_ROUNDS = QUICK ? 6 : 10;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const log = (...args) => console.log(...args);
const ms = (x) => `${x.toFixed(2)} ms`;
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function freshSchema(label) {
  const schema = `bench_${label}_${randomBytes(4).toString('hex')}`;
  const database = await openDatabase({
    DATABASE_URL: URL,
    LEDGER_DB_SCHEMA: schema,
    LEDGER_DATA_DIR: 'memory://',
    LEDGER_DB_POOL_MAX: 3,
  });
  await migrate(database);
  return {
    database,
    schema,
    async drop() {
      await sql.raw(`drop schema if exists ${schema} cascade`).execute(database.db);
      await database.close();
    },
  };
}

/**
 * One hot account ("hot", credit-normal) with ENTRIES postings over a year, 1% backdated by up to 90
 * days. The events go in with SQL (dummy hashes: nothing here walks the chain); the time-travel
 * index is filled the way migration 0005 fills it from existing entries, then checked against a
 * brute-force sum of the events for a sample of (T, K) before anything is timed.
 */
async function seedHotAccount(db, baseMs) {
  const started = performance.now();
  const openedAt = new Date(baseMs).toISOString();
  const opened = (id, side) =>
    JSON.stringify({
      accountId: id,
      currency: 'USD',
      normalSide: side,
      flags: { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false },
      metadata: {},
      openedAt,
    });
  await sql`insert into events (position, event_id, stream_id, revision, type, data, metadata, recorded_at, prev_hash, hash) values
    (1, gen_random_uuid(), 'account-hot', 0, 'AccountOpened', ${opened('hot', 'credit')}::json, '{"causationId":"b","correlationId":"b"}', ${openedAt}::timestamptz, '\\x00', '\\x00'),
    (2, gen_random_uuid(), 'account-other', 0, 'AccountOpened', ${opened('other', 'debit')}::json, '{"causationId":"b","correlationId":"b"}', ${openedAt}::timestamptz, '\\x00', '\\x00')`.execute(
    db,
  );
  const stepMs = Math.floor(SPAN_MS / ENTRIES);
  const chunk = 100_000;
  for (let from = 1; from <= ENTRIES; from += chunk) {
    const to = Math.min(ENTRIES, from + chunk - 1);
    await sql`
      insert into events (position, event_id, stream_id, revision, type, data, metadata, recorded_at, prev_hash, hash)
      select i + 2, gen_random_uuid(), 'transfer-t' || i, 0, 'TransferPosted',
             json_build_object('transferId', 't' || i,
                               'debitAccountId', case when i % 3 = 0 then 'hot' else 'other' end,
                               'creditAccountId', case when i % 3 = 0 then 'other' else 'hot' end,
                               'amount', (1 + i % 997)::text, 'currency', 'USD', 'metadata', '{}'::json,
                               'effectiveAt', to_char(eff at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
             '{"causationId":"b","correlationId":"b"}'::json, rec, '\\x00', '\\x00'
      from (
        select i, rec,
               case when i % ${sql.lit(BACKDATED_EVERY)} = 7
                    then greatest(${openedAt}::timestamptz, rec - ((i * 7919) % ${sql.lit(BACKDATE_MAX_MS)}) * interval '1 millisecond')
                    else rec end as eff
        from (select i, ${openedAt}::timestamptz + (i * ${sql.lit(stepMs)}) * interval '1 millisecond' as rec
              from generate_series(${from}::bigint, ${to}::bigint) i) r
      ) x`.execute(db);
  }
  await sql`update log_head set position = ${ENTRIES + 2}`.execute(db);
  const eventsMs = performance.now() - started;

  // Read models for the two accounts, and the index, as migration 0005 builds it from entries.
  const indexStarted = performance.now();
  await sql`insert into rm_accounts (id, currency, normal_side, flags, status, debits_posted, credits_posted, entry_count, version, opened_at, metadata, position)
            values ('hot', 'USD', 'credit', '{}', 'open', 0, 0, 0, 1, ${openedAt}::timestamptz, '{}', 1),
                   ('other', 'USD', 'debit', '{}', 'open', 0, 0, 0, 1, ${openedAt}::timestamptz, '{}', 2)`.execute(db);
  await sql`
    create table bench_entries as
    select acc as account_id, e.position, e.recorded_at, (e.data->>'effectiveAt')::timestamptz as effective_at,
           case when acc = e.data->>'debitAccountId' then 'debit' else 'credit' end as side, (e.data->>'amount')::numeric as amount
    from events e, lateral (values (e.data->>'debitAccountId'), (e.data->>'creditAccountId')) a(acc)
    where e.type = 'TransferPosted' and acc = 'hot'`.execute(db);
  await sql`
    insert into rm_balance_known (account_id, recorded_at, debits_through, credits_through)
    select account_id, recorded_at,
           sum(sum(case when side = 'debit' then amount else 0 end)) over w,
           sum(sum(case when side = 'credit' then amount else 0 end)) over w
    from bench_entries group by account_id, recorded_at
    window w as (partition by account_id order by recorded_at)`.execute(db);
  await sql`
    insert into rm_backdated_entries (account_id, position, recorded_at, effective_at, side, amount)
    select account_id, position, recorded_at, effective_at, side, amount from bench_entries where effective_at < recorded_at`.execute(
    db,
  );
  await sql`analyze`.execute(db);
  /** @type {{ rows: any[] }} */
  const counted = await sql`select (select count(*) from bench_entries)::int as entries,
      (select count(*) from rm_backdated_entries)::int as backdated`.execute(db);
  const [counts] = counted.rows;
  return { eventsMs, indexMs: performance.now() - indexStarted, entries: counts.entries, backdated: counts.backdated };
}

const randomTime = (baseMs) => new Date(baseMs + Math.floor(Math.random() * (SPAN_MS + 2 * 86_400_000))).toISOString();

async function oracle(db, asOf, knownAt) {
  /** @type {{ rows: any[] }} */
  const { rows } = await sql`select coalesce(sum(amount) filter (where side = 'debit'), 0)::text as d,
                                    coalesce(sum(amount) filter (where side = 'credit'), 0)::text as c
                             from bench_entries where effective_at <= ${asOf}::timestamptz and recorded_at <= ${knownAt}::timestamptz`.execute(
    db,
  );
  return { debits: BigInt(rows[0].d), credits: BigInt(rows[0].c) };
}

async function benchBalances(db, baseMs) {
  const readModels = new ReadModels(db);
  for (let i = 0; i < 30; i++) {
    const asOf = randomTime(baseMs);
    const knownAt = randomTime(baseMs);
    const got = await readModels.balanceAt('hot', asOf, knownAt);
    const want = await oracle(db, asOf, knownAt);
    if (got.debitsPosted !== want.debits || got.creditsPosted !== want.credits) {
      throw new Error(
        `index disagrees with the events at asOf ${asOf} knownAt ${knownAt}: ${got.debitsPosted}/${got.creditsPosted} vs ${want.debits}/${want.credits}`,
      );
    }
  }
  for (let i = 0; i < 100; i++) await readModels.balanceAt('hot', randomTime(baseMs), randomTime(baseMs));
  const all = [];
  const earlierT = [];
  for (let i = 0; i < QUERIES; i++) {
    const asOf = randomTime(baseMs);
    const knownAt = randomTime(baseMs);
    const started = performance.now();
    await readModels.balanceAt('hot', asOf, knownAt);
    const elapsed = performance.now() - started;
    all.push(elapsed);
    if (asOf < knownAt) earlierT.push(elapsed);
  }
  // The server's own time for the query, without the client and the scheduler: a widest-window case.
  const serverMs = [];
  for (let i = 0; i < 50; i++) {
    const asOf = randomTime(baseMs);
    const knownAt = new Date(baseMs + SPAN_MS + 86_400_000).toISOString();
    const { rows } = await sql`explain (analyze, format json) with known as (
        select debits_through, credits_through from rm_balance_known
        where account_id = 'hot' and recorded_at <= least(${asOf}::timestamptz, ${knownAt}::timestamptz) order by recorded_at desc limit 1
      ), lag as (select max(recorded_at - effective_at) as lag_max from rm_backdated_entries where account_id = 'hot'),
      late as (select coalesce(sum(b.amount), 0) as total from lag, rm_backdated_entries b
        where b.account_id = 'hot' and b.recorded_at > ${asOf}::timestamptz
          and b.recorded_at <= least(${knownAt}::timestamptz, ${asOf}::timestamptz + lag.lag_max) and b.effective_at <= ${asOf}::timestamptz)
      select (select debits_through from known), (select total from late)`.execute(db);
    serverMs.push(rows[0]['QUERY PLAN'][0]['Execution Time']);
  }
  return {
    all: all.sort((a, b) => a - b),
    earlierT: earlierT.sort((a, b) => a - b),
    serverMs: serverMs.sort((a, b) => a - b),
  };
}

async function benchReplay(store) {
  const fold = new ReplayFold({ asOf: new Date().toISOString(), knownAt: new Date().toISOString() });
  const started = performance.now();
  await foldLog(store, fold, { pageSize: 10_000 });
  const seconds = (performance.now() - started) / 1000;
  return { events: fold.eventsReplayed, seconds, rate: fold.eventsReplayed / seconds, accounts: fold.result() };
}

function transferBatch(round, batch) {
  return Array.from({ length: APPEND_BATCH }, (_, k) => {
    const id = `r${round}-b${batch}-${k}`;
    const debit = `a${k % 50}`;
    const credit = `a${(k + 1) % 50}`;
    return {
      eventId: crypto.randomUUID(),
      streamId: `transfer-${id}`,
      type: 'TransferPosted',
      data: {
        transferId: id,
        debitAccountId: debit,
        creditAccountId: credit,
        amount: String(1 + k),
        currency: 'USD',
        metadata: {},
        effectiveAt: '2026-01-01T00:00:00.000Z',
      },
      metadata: {
        correlationId: crypto.randomUUID(),
        causationId: crypto.randomUUID(),
        commandHash: randomBytes(32).toString('hex'),
      },
      alsoIn: [`account-${debit}`, `account-${credit}`],
    };
  });
}

/**
 * Replaces, in one bench schema, the append function's chain step (migrations/0012, 0061: the SHA-256 of
 * the previous hash and the event's canonical text) with a constant: the same append without the
 * chain, to measure what the chain costs where it is computed (ADR 0027).
 */
async function stubChain(target) {
  // The function as the latest migration that defines it (0012, replaced since by 0061).
  const dir = path.join(root, 'migrations');
  const latest = readdirSync(dir)
    .filter(
      (name) => name.endsWith('.sql') && readFileSync(path.join(dir, name), 'utf8').includes('function ledger_append('),
    )
    .sort()
    .at(-1);
  const script = readFileSync(path.join(dir, latest), 'utf8');
  const stubbed = script
    .replace('create function ledger_append(', 'create or replace function ledger_append(')
    .replace(/v_hash := sha256\([\s\S]*?'UTF8'\)\);/, `v_hash := '\\x${'00'.repeat(32)}'::bytea;`);
  if (stubbed.includes('sha256(')) throw new Error('bench: could not find the chain step of ledger_append to stub');
  await sql.raw(stubbed).execute(target.database.db);
}

async function benchChainCost() {
  const targets = { hashed: await freshSchema('chain'), stub: await freshSchema('chainstub') };
  try {
    await stubChain(targets.stub);
    const stores = {
      hashed: new PostgresEventStore(targets.hashed.database.db),
      stub: new PostgresEventStore(targets.stub.database.db),
    };
    const totals = { hashed: { events: 0, ms: 0 }, stub: { events: 0, ms: 0 } };
    const batches = APPEND_EVENTS / APPEND_BATCH / ROUNDS;
    // Warm-up, then alternate the two so the machine's drift hits both alike.
    for (const mode of ['hashed', 'stub'])
      for (let b = 0; b < 5; b++)
        await stores[mode].append({
          events: transferBatch(`w${mode}`, b),
          expected: new Map(),
          recordedAt: new Date().toISOString(),
        });
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of round % 2 === 0 ? ['hashed', 'stub'] : ['stub', 'hashed']) {
        const prepared = Array.from({ length: batches }, (_, b) => transferBatch(`${mode}${round}`, b));
        const started = performance.now();
        for (const events of prepared)
          await stores[mode].append({ events, expected: new Map(), recordedAt: new Date().toISOString() });
        totals[mode].ms += performance.now() - started;
        totals[mode].events += batches * APPEND_BATCH;
      }
    }
    return {
      hashed: (totals.hashed.events / totals.hashed.ms) * 1000,
      stub: (totals.stub.events / totals.stub.ms) * 1000,
      events: totals.hashed.events,
    };
  } finally {
    await Promise.all([targets.hashed.drop(), targets.stub.drop()]);
  }
}

/**
 * The same comparison through the write path proper: the Writer (group commit, decide, append) fed
 * single-transfer commands 2,000 at a time, as concurrent HTTP clients would, one schema per mode.
 */
async function benchWriterChainCost() {
  const schemas = { hashed: await freshSchema('whash'), stub: await freshSchema('wstub') };
  try {
    await stubChain(schemas.stub);
    const writers = {};
    for (const mode of ['hashed', 'stub']) {
      const store = new PostgresEventStore(schemas[mode].database.db);
      writers[mode] = new Writer(store, new AccountStates(store), { batchSizeMax: 2000, queueSizeMax: 1_000_000 });
      const context = { correlationId: crypto.randomUUID(), causationId: crypto.randomUUID() };
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          writers[mode].submit({
            kind: 'open',
            command: {
              type: 'OpenAccount',
              accountId: `a${i}`,
              currency: 'USD',
              normalSide: 'credit',
              flags: { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false },
              metadata: {},
            },
            commandHash: randomBytes(32).toString('hex'),
            context,
          }),
        ),
      );
    }
    const totals = { hashed: { transfers: 0, ms: 0 }, stub: { transfers: 0, ms: 0 } };
    const wave = 2000;
    const perRound = WRITER_TRANSFERS / WRITER_ROUNDS;
    const ratios = [];
    let n = 0;
    for (let round = 0; round < WRITER_ROUNDS; round++) {
      const roundMs = {};
      for (const mode of round % 2 === 0 ? ['hashed', 'stub'] : ['stub', 'hashed']) {
        const started = performance.now();
        for (let done = 0; done < perRound; done += wave) {
          await Promise.all(
            Array.from({ length: wave }, () => {
              const i = n++;
              return writers[mode].submit({
                kind: 'transfers',
                atomic: false,
                context: { correlationId: crypto.randomUUID(), causationId: crypto.randomUUID() },
                commands: [
                  {
                    command: {
                      type: 'PostTransfer',
                      transferId: `w${i}`,
                      debitAccountId: `a${i % 100}`,
                      creditAccountId: `a${(i + 7) % 100}`,
                      amount: 1n + BigInt(i % 1000),
                      currency: 'USD',
                      metadata: {},
                    },
                    commandHash: randomBytes(32).toString('hex'),
                  },
                ],
              });
            }),
          );
        }
        roundMs[mode] = performance.now() - started;
        totals[mode].ms += roundMs[mode];
        totals[mode].transfers += perRound;
      }
      ratios.push(roundMs.stub / roundMs.hashed);
    }
    for (const writer of Object.values(writers)) await writer.stop();
    return {
      hashed: (totals.hashed.transfers / totals.hashed.ms) * 1000,
      stub: (totals.stub.transfers / totals.stub.ms) * 1000,
      transfers: totals.hashed.transfers,
      medianCost: 1 - median(ratios),
      rounds: ratios.map((r) => `${((1 - r) * 100).toFixed(0)}%`).join(' '),
    };
  } finally {
    await schemas.hashed.drop();
    await schemas.stub.drop();
  }
}

async function main() {
  log(
    `audit benchmarks${QUICK ? ' (BENCH_QUICK)' : ''}: node ${process.version}, ${os.cpus().length} CPU(s) ${os.cpus()[0]?.model ?? ''}, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  log(`PostgreSQL ${URL.replace(/\/\/[^@]*@/, '//…@')}\n`);
  if (process.env.BENCH_AUDIT_ONLY === 'merkle') return benchMerkle(URL, log);
  const hot = await freshSchema('asof');
  try {
    const baseMs = Date.now() - SPAN_MS - 86_400_000;
    const seeded = await seedHotAccount(hot.database.db, baseMs);
    log(
      `seeded ${seeded.entries.toLocaleString('en')} entries on one account (${seeded.backdated.toLocaleString('en')} backdated by up to 90 days) over one year`,
    );
    log(
      `  events in ${(seeded.eventsMs / 1000).toFixed(1)} s, index built in ${(seeded.indexMs / 1000).toFixed(1)} s\n`,
    );

    const latency = await benchBalances(hot.database.db, baseMs);
    log(
      `1. balance(asOf = T, knownAt = K), ${QUERIES} random (T, K) over the year, one connection (30 answers checked against a sum of the events first)`,
    );
    log(
      `   all:          p50 ${ms(percentile(latency.all, 50))}  p99 ${ms(percentile(latency.all, 99))}  max ${ms(latency.all.at(-1))}`,
    );
    log(
      `   T < K (n=${latency.earlierT.length}): p50 ${ms(percentile(latency.earlierT, 50))}  p99 ${ms(percentile(latency.earlierT, 99))}  max ${ms(latency.earlierT.at(-1))}  (target p99 <= 5 ms)`,
    );
    log(
      `   server execution time (EXPLAIN ANALYZE, K = now, T random, n=50): p50 ${ms(percentile(latency.serverMs, 50))}  max ${ms(latency.serverMs.at(-1))}\n`,
    );

    const replay = await benchReplay(new PostgresEventStore(hot.database.db));
    log(
      `2. replay from the PostgreSQL event store (readForReplay: ranges of 10,000 positions, 3 in flight, folded as POST /v1/audit/replay does)`,
    );
    log(
      `   ${replay.events.toLocaleString('en')} events in ${replay.seconds.toFixed(2)} s: ${Math.round(replay.rate).toLocaleString('en')} events/s (target >= 100,000)\n`,
    );
  } finally {
    await hot.drop();
  }

  const chain = await benchChainCost();
  log(
    `3. the hash chain on the write path: PostgresEventStore.append, batches of ${APPEND_BATCH} transfers (3 streams each), ${chain.events.toLocaleString('en')} events per mode, alternating`,
  );
  log(`   with SHA-256 chain: ${Math.round(chain.hashed).toLocaleString('en')} events/s`);
  log(`   with the chain step stubbed in SQL: ${Math.round(chain.stub).toLocaleString('en')} events/s`);
  log(
    `   cost of the chain:  ${((1 - chain.hashed / chain.stub) * 100).toFixed(1)}% of append throughput (the chain is computed inside ledger_append, migrations/0061)`,
  );
  const writer = await benchWriterChainCost();
  log(
    `   through the Writer (decide + group commit + append), ${writer.transfers.toLocaleString('en')} single-transfer commands per mode, 2,000 in flight:`,
  );
  log(
    `   with SHA-256 chain: ${Math.round(writer.hashed).toLocaleString('en')} transfers/s; with a stub hash: ${Math.round(writer.stub).toLocaleString('en')} transfers/s`,
  );
  log(
    `   cost of the chain:  ${((1 - writer.hashed / writer.stub) * 100).toFixed(1)}% of write-path throughput over all rounds; median of ${WRITER_ROUNDS} paired rounds ${(writer.medianCost * 100).toFixed(1)}% (target <= 10%)`,
  );
  log(`   per pair: ${writer.rounds}\n`);
  await benchMerkle(URL, log);
}

main().catch((error) => {
  console.error('bench failed:', error);
  process.exitCode = 1;
});
