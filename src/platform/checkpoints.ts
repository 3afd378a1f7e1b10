import { type Generated, type Kysely, type RawBuilder, sql } from 'kysely';
import type { Tables } from './tables';

/**
 * migrations/0002 and 0003: one row per reader of the global log. `position` is numeric(39, 0):
 * on EventStoreDB a position packs $all's (commit, prepare) into 128 bits (ADR 0007), beyond bigint.
 */
export interface CheckpointsTable {
  name: string;
  position: string;
  updated_at: Generated<Date>;
}

const positionText = sql<string>`position::text`.as('position');

/**
 * A reader's place in the global log (guarantee 6, docs/contract.md): the position of the last
 * event whose effect is recorded. Every reader (read models, NATS relay, fraud scorer, …) keeps
 * one row here and moves it only with its effect, so a crash neither loses nor repeats an event.
 */
export class Checkpoint {
  constructor(readonly name: string) {}

  /** The stored position, or undefined while the row does not exist (never read, or reset). */
  async peek(db: Kysely<Tables>): Promise<bigint | undefined> {
    const row = await db
      .selectFrom('checkpoints')
      .select(positionText)
      .where('name', '=', this.name)
      .executeTakeFirst();
    return row ? BigInt(row.position) : undefined;
  }

  /** The stored position; the row is created at 0 the first time. */
  async read(db: Kysely<Tables>): Promise<bigint> {
    const stored = await this.peek(db);
    if (stored !== undefined) return stored;
    await this.create(db);
    return (await this.peek(db)) ?? 0n;
  }

  /**
   * Locks the row until `tx` ends (created at 0 first if missing) and returns its position. Two
   * readers of the same checkpoint that lock it take turns instead of applying one batch twice.
   */
  async lock(tx: Kysely<Tables>): Promise<bigint> {
    const locked = await this.selectForUpdate(tx);
    if (locked !== undefined) return locked;
    await this.create(tx);
    return (await this.selectForUpdate(tx)) ?? 0n;
  }

  /** Sets the position inside a transaction that holds the row's lock (see `lock`). */
  async set(tx: Kysely<Tables>, position: bigint): Promise<void> {
    await tx
      .updateTable('checkpoints')
      .set({ position: position.toString(), updated_at: sql`now()` })
      .where('name', '=', this.name)
      .execute();
  }

  /** Moves from `from` to `to` if it is still at `from`; false when someone else moved it. */
  async move(db: Kysely<Tables>, from: bigint, to: bigint): Promise<boolean> {
    const result = await this.moveStatement(from, to).execute(db);
    return result.numAffectedRows === 1n;
  }

  /**
   * The compare-and-move as a statement of its own, for a reader that moves the checkpoint in the
   * statement of its effect (a CTE `moved as (<this> returning 1)`, ADR 0038). It locks the row;
   * it moves nothing when the row is no longer at `from`.
   */
  moveStatement(from: bigint, to: bigint): RawBuilder<unknown> {
    return sql`update checkpoints set position = ${to.toString()}::numeric, updated_at = now()
      where name = ${this.name} and position = ${from.toString()}::numeric`;
  }

  /** Forgets the position (a rebuild starts its reader again from the beginning). */
  async remove(db: Kysely<Tables>): Promise<void> {
    await db.deleteFrom('checkpoints').where('name', '=', this.name).execute();
  }

  private async create(db: Kysely<Tables>): Promise<void> {
    await db
      .insertInto('checkpoints')
      .values({ name: this.name, position: '0' })
      .onConflict((conflict) => conflict.column('name').doNothing())
      .execute();
  }

  private async selectForUpdate(tx: Kysely<Tables>): Promise<bigint | undefined> {
    const row = await tx
      .selectFrom('checkpoints')
      .select(positionText)
      .where('name', '=', this.name)
      .forUpdate()
      .executeTakeFirst();
    return row ? BigInt(row.position) : undefined;
  }
}
