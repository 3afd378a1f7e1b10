// Two figures the write path is read against (issue 10): the raw batched-insert ceiling of the same
// PostgreSQL (one event-sized row per transfer, multi-row INSERT, no ledger at all), and the first
// transfer on a cold account with a million entries (its latency, and the service's RSS around it).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import pg from 'pg';
import { cpuMeter, round } from './util.mjs';

/**
 * `clients` connections each INSERT `perStatement` event-sized rows per statement (unnest of arrays,
 * as the adapter does) into a table shaped like `events` (same columns and indexes), for `seconds`.
 */
export async function rawInsertCeiling({ databaseUrl, seconds, clients = 4, perStatement = 1000 }) {
  const schema = `bench_ceiling_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl, application_name: 'ledger-bench' });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.query(`create table ${schema}.events (
      position bigint primary key, event_id uuid not null unique, stream_id text not null, revision bigint not null,
      type text not null, data json not null, metadata json not null, recorded_at timestamptz not null,
      prev_hash bytea not null, hash bytea not null, unique (stream_id, revision))`);
  let next = 0;
  let rows = 0;
  const cpu = cpuMeter(undefined);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const hash = createHash('sha256').update('x').digest('hex');
  const worker = async () => {
    const client = new pg.Client({ connectionString: databaseUrl, application_name: 'ledger-bench' });
    await client.connect();
    try {
      while (performance.now() < deadline) {
        const positions = Array.from({ length: perStatement }, () => String(++next));
        const data = positions.map(
          (p) =>
            `{"amount":"1","creditAccountId":"acct-0001","currency":"USD","debitAccountId":"acct-0002","effectiveAt":"2026-12-01T00:00:00.000Z","metadata":{},"transferId":"t-${p}"}`,
        );
        const metadata = positions.map(() => `{"causationId":"${randomUUID()}","correlationId":"${randomUUID()}"}`);
        await client.query(
          `insert into ${schema}.events (position, event_id, stream_id, revision, type, data, metadata, recorded_at, prev_hash, hash)
           select p::bigint, gen_random_uuid(), 'transfer-t-' || p, 0, 'TransferPosted', d::json, m::json, now(),
                  decode($4, 'hex'), decode($4, 'hex')
           from unnest($1::text[], $2::text[], $3::text[]) as x(p, d, m)`,
          [positions, data, metadata, hash],
        );
        rows += perStatement;
      }
    } finally {
      await client.end();
    }
  };
  try {
    await Promise.all(Array.from({ length: clients }, worker));
  } finally {
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
  }
  const wallS = (performance.now() - started) / 1000;
  return {
    clients,
    perStatement,
    rows,
    seconds: round(wallS, 2),
    rowsPerSecond: round(rows / wallS, 0),
    cpu: cpu.stop(),
  };
}

/**
 * Gives the service's account `accountId` (credit-normal, debitsMustNotExceedCredits) `entries`
 * credits of 1 from `bankId`, written where the rows are (one set-based statement per chunk, the
 * hash chain computed here), as the tests' fixture does (test/support/big-account.ts): through the
 * HTTP API a million entries would take far longer than the benchmark.
 */
export async function buildColdAccount({ root, databaseUrl, schema, accountId, bankId, entries, chunk = 200_000 }) {
  const require = createRequire(path.join(root, 'dist/src/main.js'));
  const { canonicalJson, chainHash } = require(path.join(root, 'dist/src/eventstore/hash-chain.js'));
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: 'ledger-bench',
    options: `-c search_path=${schema}`,
  });
  await client.connect();
  const started = performance.now();
  try {
    const runId = randomBytes(2).toString('hex');
    const metadataJson = canonicalJson({ correlationId: runId, causationId: runId });
    for (let from = 0; from < entries; from += chunk) {
      const count = Math.min(entries, from + chunk) - from;
      const recordedAt = new Date().toISOString();
      const head = (await client.query(`select position::text as position, encode(hash, 'hex') as hash from log_head`))
        .rows[0];
      const heads = (
        await client.query(
          `select stream_id, revision::text as revision, snapshot::text as snapshot from stream_heads where stream_id = any($1)`,
          [[`account-${accountId}`, `account-${bankId}`]],
        )
      ).rows;
      const headOf = (id) => heads.find((h) => h.stream_id === `account-${id}`);
      let position = BigInt(head.position);
      let prevHash = head.hash;
      const hashes = [];
      const prevHashes = [];
      for (let k = 0; k < count; k++) {
        const transferId = `cold-${runId}-${from + k}`;
        const data = {
          amount: '1',
          creditAccountId: accountId,
          currency: 'USD',
          debitAccountId: bankId,
          effectiveAt: recordedAt,
          metadata: {},
          transferId,
        };
        position += 1n;
        const eventId = `00000000-0000-4000-8000-${runId}${(from + k).toString(16).padStart(8, '0')}`;
        const fields = {
          position,
          eventId,
          streamId: `transfer-${transferId}`,
          revision: 0n,
          type: 'TransferPosted',
          recordedAt,
        };
        const hash = chainHash(prevHash, fields, canonicalJson(data), metadataJson);
        hashes.push(hash);
        prevHashes.push(prevHash);
        prevHash = hash;
      }
      await client.query(
        `with rows as (
           select k, $1::bigint + k as position, h.hash, h.prev_hash, 'cold-' || $2 || '-' || ($3::int + k - 1) as transfer_id
           from unnest($7::text[], $6::text[]) with ordinality as h(hash, prev_hash, k)
         ), new_events as (
           insert into events (position, event_id, stream_id, revision, type, data, metadata, recorded_at, prev_hash, hash)
           select position, ('00000000-0000-4000-8000-' || $2 || lpad(to_hex($3::int + k - 1), 8, '0'))::uuid,
                  'transfer-' || transfer_id, 0, 'TransferPosted',
                  ('{"amount":"1","creditAccountId":' || to_json($9::text)::text || ',"currency":"USD","debitAccountId":'
                    || to_json($10::text)::text || ',"effectiveAt":"' || $4 || '","metadata":{},"transferId":"' || transfer_id || '"}')::json,
                  $5::json, $4::timestamptz, decode(prev_hash, 'hex'), decode(hash, 'hex')
           from rows returning 1
         ), new_links as (
           insert into stream_links (stream_id, revision, position)
           select 'account-' || $10, $11::bigint + k, position from rows
           union all
           select 'account-' || $9, $12::bigint + k, position from rows
           returning 1
         ), new_heads as (
           insert into stream_heads (stream_id, revision) select 'transfer-' || transfer_id, 0 from rows returning 1
         )
         update log_head set position = $1::bigint + $8::int, hash = decode($13, 'hex'), recorded_at = $4::timestamptz`,
        [
          head.position,
          runId,
          from,
          recordedAt,
          metadataJson,
          prevHashes,
          hashes,
          count,
          accountId,
          bankId,
          headOf(bankId).revision,
          headOf(accountId).revision,
          prevHash,
        ],
      );
      // The snapshots the append would keep: the same state with `count` more credits / debits.
      for (const [id, side] of [
        [accountId, 'credit'],
        [bankId, 'debit'],
      ]) {
        const stored = JSON.parse(headOf(id).snapshot);
        const account = stored.account;
        const field = side === 'credit' ? 'creditsPosted' : 'debitsPosted';
        const next = {
          ...account,
          [field]: (BigInt(account[field]) + BigInt(count)).toString(),
          version: account.version + count,
        };
        const revision = (BigInt(headOf(id).revision) + BigInt(count)).toString();
        await client.query(
          `update stream_heads set revision = $2::bigint, snapshot = $3::json, snapshot_revision = $2::bigint,
             snapshot_position = $4::bigint where stream_id = $1`,
          [`account-${id}`, revision, JSON.stringify({ ...stored, account: next }), position.toString()],
        );
      }
    }
  } finally {
    await client.end();
  }
  return { entries, buildSeconds: round((performance.now() - started) / 1000, 1) };
}
