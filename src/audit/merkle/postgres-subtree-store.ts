import { type Kysely, sql } from 'kysely';
import type { Subtree, SubtreeStore } from './subtrees';

/** The complete subtrees of migrations/0040, read by primary key: a whole proof in one round trip. */
export class PostgresSubtreeStore implements SubtreeStore {
  // biome-ignore lint/suspicious/noExplicitAny: any schema that holds audit_merkle_subtrees (or a transaction on it)
  constructor(private readonly db: Kysely<any>) {}

  async hashes(subtrees: readonly Subtree[]): Promise<readonly Uint8Array[]> {
    if (subtrees.length === 0) return [];
    const rows = await sql<{ level: number; index: string; hash: Buffer | Uint8Array }>`
      select s.level, s.index::text as index, s.hash
      from audit_merkle_subtrees s
      join unnest(${subtrees.map((s) => s.level)}::smallint[], ${subtrees.map((s) => String(s.index))}::bigint[]) as k(level, index)
        on s.level = k.level and s.index = k.index`.execute(this.db);
    const found = new Map(rows.rows.map((row) => [`${row.level}/${row.index}`, row.hash]));
    return subtrees.map(({ level, index }) => {
      const hash = found.get(`${level}/${index}`);
      if (!hash) throw new Error(`subtree (${level}, ${index}) is missing: the tree is behind or damaged`);
      return hash;
    });
  }

  /** Leaves the tree holds (the events appended to it so far). */
  async treeSize(): Promise<number> {
    const rows = await sql<{
      tree_size: string;
    }>`select tree_size::text as tree_size from audit_merkle_head where id = 1`.execute(this.db);
    if (!rows.rows[0]) throw new Error('audit_merkle_head row is missing: migration 0040 was not applied');
    return Number(rows.rows[0].tree_size);
  }
}
