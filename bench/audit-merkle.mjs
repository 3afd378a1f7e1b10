// Merkle proofs of the log (issue 12, ADR 0021): proof sizes and times at 1,000,000 and 10,000,000 events.
//
// The tree tables are built FAST, not through the follower: leaf i is the synthetic leaf
// `bench-leaf-<i>` (UTF-8), its level-0 hash SHA-256(0x00 ‖ leaf) and every level above
// SHA-256(0x01 ‖ left ‖ right) computed by PostgreSQL itself (sha256()) in one INSERT … SELECT per
// level, in migrations/0040's table switched to UNLOGGED for the load (no WAL).
// The hashes are the RFC's, so the proofs the service's own code (PostgresSubtreeStore + proofs.ts)
// folds from them are checked with the RFC verifier against the root, leaf hashes recomputed here.
// Separately, the follower's real path (appendToTree over chained events) is timed on a small log.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { dist, require } from './lib/dist.mjs';

const { openDatabase } = dist('platform/database.js');
const { migrate } = dist('platform/migrations.js');
const { PostgresSubtreeStore } = dist('audit/merkle/postgres-subtree-store.js');
const { inclusionProof, consistencyProof, rootHash } = dist('audit/merkle/proofs.js');
const { verifyInclusion, verifyConsistency } = dist('audit/merkle/verify.js');
const { appendToTree } = dist('audit/merkle/tree-appender.js');
const { chainHash, canonicalJson, GENESIS_HASH } = dist('eventstore/hash-chain.js');
const { sql } = require('kysely');

const QUICK = process.env.BENCH_QUICK === '1';
const SIZES = (process.env.BENCH_MERKLE_SIZES ?? (QUICK ? '100000,1000000' : '1000000,10000000'))
  .split(',')
  .map(Number);
const PROOFS = QUICK ? 300 : 1000;
const APPEND_EVENTS = QUICK ? 10_000 : 30_000;
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const ms = (x) => `${x.toFixed(2)} ms`;
const leafHashOf = (i) =>
  createHash('sha256')
    .update(Buffer.from([0]))
    .update(`bench-leaf-${i}`)
    .digest();

async function freshSchema(url, label) {
  const schema = `bench_${label}_${randomBytes(4).toString('hex')}`;
  const database = await openDatabase({
    DATABASE_URL: url,
    LEDGER_DB_SCHEMA: schema,
    LEDGER_DATA_DIR: 'memory://',
    LEDGER_DB_POOL_MAX: 2,
  });
  await migrate(database);
  return {
    database,
    async drop() {
      await sql.raw(`drop schema if exists ${schema} cascade`).execute(database.db);
      await database.close();
    },
  };
}

/** Every complete subtree of a tree of n synthetic leaves, by PostgreSQL, level by level. */
async function buildTree(db, n) {
  const started = performance.now();
  await sql.raw(`set work_mem = '512MB'`).execute(db);
  await sql.raw(`set maintenance_work_mem = '1GB'`).execute(db);
  await sql.raw('alter table audit_merkle_subtrees set unlogged').execute(db);
  await sql`insert into audit_merkle_subtrees (level, index, hash)
            select 0, i, sha256('\\x00'::bytea || convert_to('bench-leaf-' || i, 'UTF8'))
            from generate_series(0::bigint, ${n - 1}::bigint) as i`.execute(db);
  let width = n;
  for (let level = 1; width >= 2; level++) {
    // Pairs (2j, 2j+1) of the level below make node j; a lone last node waits for a sibling. The
    // level below is read in primary-key order, so lead() needs no sort.
    await sql`insert into audit_merkle_subtrees (level, index, hash)
              select ${level}, s.index / 2, sha256('\\x01'::bytea || s.hash || s.next)
              from (select index, hash, lead(hash) over (order by index) as next
                    from audit_merkle_subtrees where level = ${level - 1}) s
              where s.index % 2 = 0 and s.next is not null`.execute(db);
    width = Math.floor(width / 2);
  }
  await sql`update audit_merkle_head set tree_size = ${n} where id = 1`.execute(db);
  await sql.raw('analyze audit_merkle_subtrees').execute(db);
  const rows =
    await sql`select count(*)::text as c, pg_size_pretty(pg_total_relation_size('audit_merkle_subtrees')) as size from audit_merkle_subtrees`.execute(
      db,
    );
  const counted = /** @type {{ c: string, size: string }} */ (rows.rows[0]);
  return { seconds: (performance.now() - started) / 1000, rows: Number(counted.c), size: counted.size };
}

async function benchProofs(db, n) {
  const store = new PostgresSubtreeStore(db);
  let t = performance.now();
  const root = await rootHash(store, n);
  const rootMs = performance.now() - t;
  const inclusion = [];
  const inclusionOld = [];
  const consistency = [];
  let pathHashes = 0;
  let proofHashes = 0;
  const roots = new Map();
  for (let k = 0; k < PROOFS; k++) {
    const index = Math.floor(Math.random() * n);
    t = performance.now();
    const path = await inclusionProof(store, index, n);
    inclusion.push(performance.now() - t);
    pathHashes = Math.max(pathHashes, path.length);
    if (!verifyInclusion(BigInt(index), BigInt(n), leafHashOf(index), path, root))
      throw new Error(`inclusion proof of ${index} in ${n} does not verify`);
    // Against an earlier, arbitrary tree size (a head an auditor kept): ranges that are not complete subtrees.
    const size = index + 1 + Math.floor(Math.random() * (n - index));
    t = performance.now();
    const oldPath = await inclusionProof(store, index, size);
    inclusionOld.push(performance.now() - t);
    if (k < 50) {
      const oldRoot = roots.get(size) ?? (await rootHash(store, size));
      roots.set(size, oldRoot);
      if (!verifyInclusion(BigInt(index), BigInt(size), leafHashOf(index), oldPath, oldRoot))
        throw new Error(`inclusion of ${index} in ${size} does not verify`);
    }
  }
  for (let k = 0; k < PROOFS; k++) {
    const from = 1 + Math.floor(Math.random() * (n - 1));
    t = performance.now();
    const proof = await consistencyProof(store, from, n);
    consistency.push(performance.now() - t);
    proofHashes = Math.max(proofHashes, proof.length);
    if (k < 50 && !verifyConsistency(BigInt(from), BigInt(n), await rootHash(store, from), root, proof))
      throw new Error(`consistency ${from} → ${n} does not verify`);
  }
  for (const list of [inclusion, inclusionOld, consistency]) list.sort((a, b) => a - b);
  return { rootMs, inclusion, inclusionOld, consistency, pathHashes, proofHashes };
}

/** The follower's real work: chained events hashed, checked and appended to the tree, 5,000 per transaction. */
async function benchAppend(db) {
  const events = [];
  let prevHash = GENESIS_HASH;
  const recordedAt = new Date().toISOString();
  for (let i = 1; i <= APPEND_EVENTS; i++) {
    const data = {
      transferId: `t-${i}`,
      debitAccountId: 'a',
      creditAccountId: 'b',
      amount: String(i),
      currency: 'USD',
    };
    const metadata = { correlationId: randomUUID(), causationId: randomUUID() };
    const fields = {
      position: BigInt(i),
      eventId: randomUUID(),
      streamId: `transfer-t-${i}`,
      revision: 0n,
      type: 'TransferPosted',
      recordedAt,
    };
    const hash = chainHash(prevHash, fields, canonicalJson(data), canonicalJson(metadata));
    events.push({ ...fields, data, metadata, prevHash, hash });
    prevHash = hash;
  }
  const started = performance.now();
  for (let at = 0; at < events.length; at += 5000) {
    await db.transaction().execute((trx) => appendToTree(trx, events.slice(at, at + 5000)));
  }
  return APPEND_EVENTS / ((performance.now() - started) / 1000);
}

export async function benchMerkle(url, log) {
  log(
    '4. Merkle proofs of the log (RFC 9162), tree tables built by PostgreSQL from synthetic leaves (see bench/audit-merkle.mjs)',
  );
  for (const n of SIZES) {
    const schema = await freshSchema(url, 'merkle');
    try {
      const built = await buildTree(schema.database.db, n);
      log(
        `   ${n.toLocaleString('en')} events: ${built.rows.toLocaleString('en')} subtree rows (${built.size}) built in ${built.seconds.toFixed(1)} s`,
      );
      const r = await benchProofs(schema.database.db, n);
      log(`     tree head (root folded from the table): ${ms(r.rootMs)}`);
      log(
        `     inclusion proof, tree of ${n.toLocaleString('en')}: ${r.pathHashes} hashes (${r.pathHashes * 32} bytes); p50 ${ms(percentile(r.inclusion, 50))}  p99 ${ms(percentile(r.inclusion, 99))}  (target <= 5 ms at 10M)`,
      );
      log(
        `     inclusion proof, random earlier tree size: p50 ${ms(percentile(r.inclusionOld, 50))}  p99 ${ms(percentile(r.inclusionOld, 99))}`,
      );
      log(
        `     consistency proof, random from to ${n.toLocaleString('en')}: up to ${r.proofHashes} hashes (${r.proofHashes * 32} bytes); p50 ${ms(percentile(r.consistency, 50))}  p99 ${ms(percentile(r.consistency, 99))}`,
      );
      log(
        `     (${PROOFS} of each, one connection; every inclusion proof and 50 consistency proofs verified with the RFC 9162 verifier)`,
      );
    } finally {
      await schema.drop();
    }
  }
  const schema = await freshSchema(url, 'merkleappend');
  try {
    const rate = await benchAppend(schema.database.db);
    log(
      `   tree maintenance (the follower's appendToTree: re-hash the chain, leaf hash, subtrees, one INSERT per 5,000 events): ${Math.round(rate).toLocaleString('en')} events/s\n`,
    );
  } finally {
    await schema.drop();
  }
}
