import { type Kysely, sql } from 'kysely';
import { PostgresEventStore } from '../eventstore/postgres-event-store';
import type { EventStore } from '../eventstore/port';
import { canonicalEventText } from '../eventstore/hash-chain';
import { isoTimestamp } from '../platform/sql';
import type { KeyRegistry } from './key-registry';
import { leafHash } from './merkle/hashes';
import { PostgresSubtreeStore } from './merkle/postgres-subtree-store';
import { consistencyProof, inclusionProof, rootHash } from './merkle/proofs';
import type { KeyRing } from './signing-keys';
import { type SignedTreeHead, signTreeHead } from './tree-head';

/** Asked for a size or position the log does not hold (yet): the client's mistake. */
export class BeyondLogError extends Error {
  constructor(
    readonly what: 'tree-size' | 'position',
    message: string,
  ) {
    super(message);
  }
}

/** The log holds it, but the tree has not caught up with the log yet: retry shortly. */
export class TreeBehindError extends Error {}

/** The Merkle tree is kept over the PostgreSQL log only (ADR 0021). */
export class TreeUnavailableError extends Error {
  constructor() {
    super('Merkle proofs of the log are served with EVENTSTORE=postgres only in this version (ADR 0021)');
  }
}

export interface InclusionProof {
  readonly leafIndex: number;
  readonly treeSize: number;
  /** base64 of the leaf: the event's canonical bytes. */
  readonly leaf: string;
  readonly leafHash: string;
  readonly auditPath: readonly string[];
}

export interface ConsistencyProof {
  readonly from: number;
  readonly to: number;
  readonly proof: readonly string[];
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/**
 * Signed tree heads and RFC 9162 proofs over the Merkle tree of the log (ADR 0021). The tree is
 * kept by a log follower (tree-appender.ts); this reads it: every answer is O(log n) indexed rows.
 */
export class LogProofs {
  private readonly subtrees: PostgresSubtreeStore;

  constructor(
    // biome-ignore lint/suspicious/noExplicitAny: any schema holding migrations/0040–0041
    private readonly db: Kysely<any>,
    private readonly store: EventStore,
    private readonly keys: KeyRing,
    private readonly registry: KeyRegistry,
  ) {
    this.subtrees = new PostgresSubtreeStore(db);
  }

  treeSize(): Promise<number> {
    this.chainStore();
    return this.subtrees.treeSize();
  }

  /**
   * The signed head of the tree of `size` events (default: all the tree holds), signed by the
   * active key: the same document every time for one size and key (the first signature is kept).
   */
  async treeHead(size?: number): Promise<SignedTreeHead> {
    const treeSize = size ?? (await this.treeSize());
    await this.requireInTree(treeSize);
    const key = this.keys.active;
    const kept = await this.keptHead(treeSize, key.keyId);
    if (kept) return kept;
    const root = hex(await rootHash(this.subtrees, treeSize));
    const head = signTreeHead(key, treeSize, root, new Date().toISOString());
    await sql`insert into audit_tree_heads (tree_size, key_id, root_hash, signed_at, signature)
              values (${String(treeSize)}::bigint, ${key.keyId}, decode(${root}, 'hex'), ${head.signedAt}::timestamptz,
                      decode(${head.signature}, 'hex'))
              on conflict (tree_size, key_id) do nothing`.execute(this.db);
    await this.registry.signedWith(key.keyId, head.signedAt);
    return (await this.keptHead(treeSize, key.keyId))!;
  }

  /** RFC 9162 inclusion proof of the event at `position` in the tree of `treeSize` events (default: all). */
  async inclusion(position: bigint, treeSize?: number): Promise<InclusionProof> {
    const size = treeSize ?? (await this.treeSize());
    await this.requireInTree(size);
    if (position < 1n || position > BigInt(size))
      throw new BeyondLogError(
        'position',
        `position ${position} is not in the tree of ${size} events (leaf i is the event at position i + 1; ask for a treeSize ≥ ${position})`,
      );
    const [link] = await this.chainStore().readChain({ after: position - 1n, limit: 1 });
    if (!link || link.position !== position)
      throw new Error(`the log has no event at position ${position}, but the tree does`);
    const leaf = Buffer.from(canonicalEventText(link, link.dataJson, link.metadataJson), 'utf8');
    const leafIndex = Number(position - 1n);
    const path = await inclusionProof(this.subtrees, leafIndex, size);
    return {
      leafIndex,
      treeSize: size,
      leaf: leaf.toString('base64'),
      leafHash: hex(leafHash(leaf)),
      auditPath: path.map(hex),
    };
  }

  /** RFC 9162 consistency proof from the tree of `from` events to the tree of `to` events (1 ≤ from ≤ to). */
  async consistency(from: number, to: number): Promise<ConsistencyProof> {
    await this.requireInTree(to);
    const proof = await consistencyProof(this.subtrees, from, to);
    return { from, to, proof: proof.map(hex) };
  }

  private async keptHead(treeSize: number, keyId: string): Promise<SignedTreeHead | undefined> {
    const rows = await sql<{ root: string; signed_at: string; signature: string }>`
      select encode(root_hash, 'hex') as root, ${isoTimestamp('signed_at')} as signed_at, encode(signature, 'hex') as signature
      from audit_tree_heads where tree_size = ${String(treeSize)}::bigint and key_id = ${keyId}`.execute(this.db);
    const row = rows.rows[0];
    return row ? { treeSize, rootHash: row.root, signedAt: row.signed_at, keyId, signature: row.signature } : undefined;
  }

  private async requireInTree(size: number): Promise<void> {
    const inTree = await this.treeSize();
    if (size <= inTree) return;
    const logHead = await this.store.headPosition();
    if (BigInt(size) > logHead)
      throw new BeyondLogError(
        'tree-size',
        `the log holds ${logHead} events; ask for a tree size of at most ${logHead}`,
      );
    throw new TreeBehindError(`the Merkle tree holds ${inTree} of the log's ${logHead} events; retry shortly`);
  }

  private chainStore(): PostgresEventStore {
    if (!(this.store instanceof PostgresEventStore)) throw new TreeUnavailableError();
    return this.store;
  }
}

/** The signed tree head of the largest size ≤ `position` events (any key), for exports. */
// biome-ignore lint/suspicious/noExplicitAny: any schema holding migrations/0041
export async function latestTreeHeadWithin(db: Kysely<any>, position: bigint): Promise<SignedTreeHead | undefined> {
  const rows = await sql<TreeHeadRow>`
    select tree_size::text as tree_size, encode(root_hash, 'hex') as root, ${isoTimestamp('signed_at')} as signed_at,
           key_id, encode(signature, 'hex') as signature
    from audit_tree_heads where tree_size <= ${position.toString()}::bigint
    order by tree_size desc, signed_at desc limit 1`.execute(db);
  const row = rows.rows[0];
  return row ? treeHeadOf(row) : undefined;
}

interface TreeHeadRow {
  tree_size: string;
  root: string;
  signed_at: string;
  key_id: string;
  signature: string;
}

const treeHeadOf = (row: TreeHeadRow): SignedTreeHead => ({
  treeSize: Number(row.tree_size),
  rootHash: row.root,
  signedAt: row.signed_at,
  keyId: row.key_id,
  signature: row.signature,
});

/** The smallest signed tree head (any key) covering at least `position` events, for tools without the signing key. */
// biome-ignore lint/suspicious/noExplicitAny: any schema holding migrations/0041
export async function keptTreeHeadCovering(db: Kysely<any>, position: bigint): Promise<SignedTreeHead | undefined> {
  const rows = await sql<TreeHeadRow>`
    select tree_size::text as tree_size, encode(root_hash, 'hex') as root, ${isoTimestamp('signed_at')} as signed_at,
           key_id, encode(signature, 'hex') as signature
    from audit_tree_heads where tree_size >= ${position.toString()}::bigint
    order by tree_size, signed_at desc limit 1`.execute(db);
  const row = rows.rows[0];
  return row ? treeHeadOf(row) : undefined;
}
