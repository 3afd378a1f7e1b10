// Console benchmark (issue 14): GET /v1/accounts/{id}/balance-history of 1,000 points on an account
// with 1,000,000 entries, target <= 100 ms. The history is built fast and honestly: the time-travel
// index is written by the projector's own code (writeTimeIndex, in batches of BATCH entries), 1% of
// the postings backdated by up to 90 days, then a sample of points is checked against a brute-force
// sum of the same postings before anything is timed. Measured twice: the query function the route
// calls, and the route itself in process (Fastify inject: validation, query, JSON). References in
// the same run: one as-of balance from the index (GET /balance's query) and a `select 1` round trip.
// Works in a fresh schema of BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test),
// dropped afterwards. BENCH_QUICK=1: 100,000 entries, fewer rounds. `npm run bench:console`.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { dist, require } from './lib/dist.mjs';

const { openDatabase } = dist('platform/database.js');
const { migrate } = dist('platform/migrations.js');
const { writeTimeIndex, balanceFromIndex } = dist('projections/time-index.js');
const { ReadLists } = dist('projections/lists.js');
const { historyInstants } = dist('projections/balance-history.js');
const { createLedgerApp } = dist('app.js');
const { loadConfig } = dist('config.js');
const { sql } = require('kysely');

const QUICK = process.env.BENCH_QUICK === '1';
const URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ENTRIES = QUICK ? 100_000 : 1_000_000;
const BATCH = 20_000;
const POINTS = 1000;
const ROUNDS = QUICK ? 20 : 60;
const TARGET_MS = 100;
const SPAN_MS = 365 * 86_400_000;
const BACKDATED_EVERY = 100;
const BACKDATE_MAX_MS = 90 * 86_400_000;
const KEY = `bench-console-${randomBytes(6).toString('hex')}`;

const log = (...args) => console.log(...args);
const sorted = (values) => [...values].sort((a, b) => a - b);
const pct = (values, p) => sorted(values)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))];
const fmt = (values) => `p50 ${pct(values, 50).toFixed(2)} ms, p99 ${pct(values, 99).toFixed(2)} ms`;

/** The postings of account `hot`: recorded every SPAN/ENTRIES ms over a year, 1% effective earlier. */
function postings(baseMs) {
  const stepMs = Math.floor(SPAN_MS / ENTRIES);
  const out = [];
  for (let i = 1; i <= ENTRIES; i++) {
    const recordedMs = baseMs + i * stepMs;
    const effectiveMs =
      i % BACKDATED_EVERY === 7 ? Math.max(baseMs, recordedMs - ((i * 7919) % BACKDATE_MAX_MS)) : recordedMs;
    out.push({
      accountId: 'hot',
      seq: BigInt(i),
      transferId: `t${i}`,
      side: i % 3 === 0 ? 'debit' : 'credit',
      amount: BigInt(1 + (i % 997)),
      balanceAfter: 0n, // not read by the index
      effectiveAt: new Date(effectiveMs).toISOString(),
      recordedAt: new Date(recordedMs).toISOString(),
      position: BigInt(i + 1),
    });
  }
  return out;
}

/** Brute force: the totals of the postings with effectiveAt <= T and recordedAt <= K. */
function oracle(all, asOf, knownAt) {
  let debits = 0n;
  let credits = 0n;
  for (const p of all) {
    if (p.effectiveAt <= asOf && p.recordedAt <= knownAt) {
      if (p.side === 'debit') debits += p.amount;
      else credits += p.amount;
    }
  }
  return { debits, credits };
}

async function main() {
  const schema = `bench_console_${randomBytes(4).toString('hex')}`;
  const settings = { DATABASE_URL: URL, LEDGER_DB_SCHEMA: schema, LEDGER_DATA_DIR: 'memory://' };
  const database = await openDatabase({ ...settings, LEDGER_DB_POOL_MAX: 3 });
  let app;
  try {
    await migrate(database);
    const db = database.db;
    const baseMs = Date.parse('2025-01-01T00:00:00.000Z');
    const openedAt = new Date(baseMs).toISOString();
    await sql`insert into rm_accounts (id, currency, normal_side, flags, status, debits_posted, credits_posted,
                                       entry_count, version, opened_at, metadata, position)
              values ('hot', 'USD', 'credit', '{}', 'open', 0, 0, 0, 1, ${openedAt}::timestamptz, '{}', 1)`.execute(db);

    log(`console bench: ${ENTRIES.toLocaleString('en')} entries on one account, history of ${POINTS} points`);
    log(
      `  load average ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')} on ${os.cpus().length} cores`,
    );
    const all = postings(baseMs);
    const built = performance.now();
    for (let at = 0; at < all.length; at += BATCH) await writeTimeIndex(db, all.slice(at, at + BATCH));
    await sql`analyze`.execute(db);
    const buildS = (performance.now() - built) / 1000;
    log(`  time index written by the projector's writeTimeIndex in ${buildS.toFixed(1)} s (batches of ${BATCH})`);

    const lists = new ReadLists(db);
    const toMs = baseMs + SPAN_MS + 86_400_000;
    const instants = historyInstants(baseMs, toMs, POINTS);
    const knownNow = new Date(toMs + 1).toISOString();
    const knownEarly = new Date(baseMs + SPAN_MS / 2).toISOString();

    // Correct before fast: a sample of points, as known at the end and half way, against brute force.
    for (const knownAt of [knownNow, knownEarly]) {
      const history = await lists.history('hot', instants, knownAt);
      for (const i of [0, 1, 137, 500, 731, 998, 999]) {
        const want = oracle(all, new Date(instants[i]).toISOString(), knownAt);
        const got = history.points[i];
        if (got.debitsPosted !== want.debits || got.creditsPosted !== want.credits) {
          throw new Error(
            `history point ${i} (known at ${knownAt}) is ${got.debitsPosted}/${got.creditsPosted}, the postings say ${want.debits}/${want.credits}`,
          );
        }
      }
    }
    log('  checked: 14 points (two known-at times) equal a brute-force sum of the postings');

    const time = async (fn, rounds) => {
      for (let i = 0; i < 3; i++) await fn(i);
      const out = [];
      for (let i = 0; i < rounds; i++) {
        const started = performance.now();
        await fn(i);
        out.push(performance.now() - started);
      }
      return out;
    };
    const queryNow = await time(() => lists.history('hot', instants, knownNow), ROUNDS);
    const queryEarly = await time(() => lists.history('hot', instants, knownEarly), ROUNDS);

    app = await createLedgerApp(
      loadConfig({
        ...settings,
        LOG_LEVEL: 'error',
        LEDGER_ROLES: 'api',
        LEDGER_API_KEYS: `${KEY}:auditor`,
        LEDGER_RATE_LIMIT: '1000000',
      }),
    );
    const fastify = app.app.getHttpAdapter().getInstance();
    const from = new Date(baseMs).toISOString();
    const to = new Date(toMs).toISOString();
    const url = `/v1/accounts/hot/balance-history?from=${from}&to=${to}&points=${POINTS}&knownAt=${knownNow}`;
    const route = await time(async () => {
      const response = await fastify.inject({ method: 'GET', url, headers: { authorization: `Bearer ${KEY}` } });
      if (response.statusCode !== 200) throw new Error(`${response.statusCode} ${response.body.slice(0, 300)}`);
    }, ROUNDS);
    const balance = await time(
      (i) => balanceFromIndex(db, 'hot', new Date(instants[(i * 37) % POINTS]).toISOString(), knownNow),
      ROUNDS * 5,
    );
    const roundTrip = await time(() => sql`select 1`.execute(db), ROUNDS * 5);

    const p50 = pct(route, 50);
    const p99 = pct(route, 99);
    log(`  route GET balance-history (${POINTS} points, in process): ${fmt(route)}`);
    log(`  query, known now:                ${fmt(queryNow)}`);
    log(`  query, known half way (restated): ${fmt(queryEarly)}`);
    log(`  reference, one as-of balance:     ${fmt(balance)}`);
    log(`  reference, select 1 round trip:   ${fmt(roundTrip)}`);
    const verdict = (x) => `${x <= TARGET_MS ? 'PASS' : 'MISS'} (${x.toFixed(2)} ms)`;
    log(`  target <= ${TARGET_MS} ms for the route: p50 ${verdict(p50)}, p99 ${verdict(p99)}`);
    log(
      `  load average after ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await app?.close();
    await sql.raw(`drop schema if exists ${schema} cascade`).execute(database.db);
    await database.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
