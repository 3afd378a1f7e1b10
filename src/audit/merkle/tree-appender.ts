import { type Kysely, sql } from 'kysely';
import { canonicalEventText, canonicalJson, chainHash } from '../../eventstore/hash-chain';
import type { RecordedEvent } from '../../eventstore/port';
import { leafHash } from './hashes';
import { PostgresSubtreeStore } from './postgres-subtree-store';
import { TreeBuilder, type SubtreeHash, edgeOf } from './tree-builder';

/** The leaf of an event (ADR 0021): its canonical bytes, exactly those its chain hash covers. */
export function eventLeaf(event: RecordedEvent): Buffer {
  const dataJson = canonicalJson(event.data);
  const metadataJson = canonicalJson(event.metadata);
  // The tree only takes bytes the hash chain vouches for: re-hashing them must give the stored
  // hash, or the event was altered (or its JSON does not round-trip), and the tree stops here.
  if (chainHash(event.prevHash, event, dataJson, metadataJson) !== event.hash)
    throw new Error(
      `event ${event.eventId} at position ${event.position} does not hash to its chain hash: not adding it to the Merkle tree`,
    );
  return Buffer.from(canonicalEventText(event, dataJson, metadataJson), 'utf8');
}

/**
 * Adds events of the log to the Merkle tree, inside the caller's transaction (the log follower's,
 * which moves its checkpoint in the same commit). Leaf i is the event at position i + 1: the
 * PostgreSQL log's positions are dense from 1 (ADR 0001), and a gap stops the tree loudly rather
 * than proving a different log. Events the tree already holds are skipped, so a follower that
 * hands a page twice changes nothing. Returns the tree size after.
 */
// biome-ignore lint/suspicious/noExplicitAny: a transaction on any schema holding migrations/0040
export async function appendToTree(trx: Kysely<any>, events: readonly RecordedEvent[]): Promise<number> {
  // The head row's lock makes two processes' followers take turns on the tree.
  const head = await sql<{ tree_size: string }>`
    select tree_size::text as tree_size from audit_merkle_head where id = 1 for update`.execute(trx);
  if (!head.rows[0]) throw new Error('audit_merkle_head row is missing: migration 0040 was not applied');
  const size = Number(head.rows[0].tree_size);
  const fresh = events.filter((event) => event.position > BigInt(size));
  if (fresh.length === 0) return size;

  const store = new PostgresSubtreeStore(trx);
  const edge = edgeOf(size);
  const edgeHashes = await store.hashes(edge);
  const builder = new TreeBuilder(
    size,
    edge.map((subtree, i) => ({ ...subtree, hash: Buffer.from(edgeHashes[i]!) })),
  );
  const made: SubtreeHash[] = [];
  for (const event of fresh) {
    if (event.position !== BigInt(builder.size) + 1n)
      throw new Error(
        `the Merkle tree holds ${builder.size} events, but the next event handed to it is at position ${event.position}`,
      );
    made.push(...builder.append(leafHash(eventLeaf(event))));
  }
  await insertSubtrees(trx, made);
  await sql`update audit_merkle_head set tree_size = ${String(builder.size)}::bigint where id = 1`.execute(trx);
  return builder.size;
}

/** Writes complete subtrees, in slices so that one statement's parameters stay bounded. */
// biome-ignore lint/suspicious/noExplicitAny: see appendToTree
export async function insertSubtrees(db: Kysely<any>, subtrees: readonly SubtreeHash[]): Promise<void> {
  const SLICE = 20_000;
  for (let at = 0; at < subtrees.length; at += SLICE) {
    const slice = subtrees.slice(at, at + SLICE);
    await sql`
      insert into audit_merkle_subtrees (level, index, hash)
      select l, i, decode(h, 'hex')
      from unnest(${slice.map((s) => s.level)}::smallint[], ${slice.map((s) => String(s.index))}::bigint[],
                  ${slice.map((s) => s.hash.toString('hex'))}::text[]) as x(l, i, h)`.execute(db);
  }
}
