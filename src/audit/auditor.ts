import { type Kysely, sql } from 'kysely';
import { closedThroughAsKnownAt } from './closed-periods';
import { PostgresEventStore } from '../eventstore/postgres-event-store';
import type { EventStore } from '../eventstore/port';
import type { Tables } from '../platform/tables';
import type { CatchUp } from '../projections/catch-up';
import type { ReadModels } from '../projections/queries';
import { type ChainReport, ChainVerifier } from './chain-verifier';
import { type ChainDigest, type SigningKey, signDigest } from './digest';
import type { KeyRegistry } from './key-registry';
import { type LogProofs, TreeUnavailableError } from './log-proofs';
import type { KeyRing } from './signing-keys';
import { type ReplayReport, type ReplayRequest, replayAndCompare } from './replay';

export const AUDITOR = Symbol('Auditor');

/** The chain walk and the signed heads read the PostgreSQL events table; other stores do not offer them yet. */
export class ChainUnavailableError extends Error {
  constructor() {
    super('the hash chain can be walked and signed only with EVENTSTORE=postgres in this version');
  }
}

/** Events read per round trip by replays and chain walks. */
export const AUDIT_PAGE_SIZE = 10_000;

/**
 * What /v1/audit serves: replays from the event store, the signed chain head, and a walk of the
 * chain. Reads the events table itself for the chain (the PostgreSQL adapter keeps the exact bytes
 * that were hashed).
 */
export class Auditor {
  private timer: NodeJS.Timeout | undefined;
  lastSigningError: unknown;

  constructor(
    readonly db: Kysely<Tables>,
    private readonly store: EventStore,
    private readonly readModels: ReadModels,
    private readonly catchUp: CatchUp,
    readonly keys: KeyRing,
    readonly registry: KeyRegistry,
    readonly proofs: LogProofs,
  ) {}

  /** The instant the books were closed through as known at `knownAt` (null: none), from the log. */
  closedThroughAt(knownAt: string): Promise<string | null> {
    return closedThroughAsKnownAt(this.store, knownAt);
  }

  /** The key this process signs with now. */
  get key(): SigningKey {
    return this.keys.active;
  }

  replay(request: ReplayRequest): Promise<ReplayReport> {
    return replayAndCompare(this.store, request, {
      pageSize: AUDIT_PAGE_SIZE,
      readModelBalance: (accountId, asOf, knownAt) => this.readModels.balanceAt(accountId, asOf, knownAt),
      waitForReadModels: (position) => this.catchUp.waitFor(position),
    });
  }

  /** The latest signed head by this process's key; signs the current head first if the log moved since. */
  async digest(): Promise<ChainDigest> {
    const head = await this.chainStore().chainHead();
    const stored = await sql<{ digest: string }>`
      select digest::text as digest from audit_digests
      where key_id = ${this.key.keyId} and position = ${head.position.toString()}::bigint`.execute(this.db);
    if (stored.rows[0]) return JSON.parse(stored.rows[0].digest) as ChainDigest;
    const digest = signDigest(this.key, head, new Date().toISOString());
    await this.registry.signedWith(digest.keyId, digest.signedAt);
    // Two signers racing on one head keep the first: every caller gets the same document.
    await sql`insert into audit_digests (key_id, position, digest)
              values (${digest.keyId}, ${digest.position}::bigint, ${JSON.stringify(digest)}::json)
              on conflict (key_id, position) do nothing`.execute(this.db);
    const kept = await sql<{ digest: string }>`
      select digest::text as digest from audit_digests where key_id = ${digest.keyId} and position = ${digest.position}::bigint`.execute(
      this.db,
    );
    return JSON.parse(kept.rows[0]!.digest) as ChainDigest;
  }

  private chainStore(): PostgresEventStore {
    if (!(this.store instanceof PostgresEventStore)) throw new ChainUnavailableError();
    return this.store;
  }

  /** Signs the chain head and the tree head every `intervalMs` (each only when it moved: a head signed once is kept). */
  startSigning(intervalMs: number): void {
    if (this.timer || !(this.store instanceof PostgresEventStore)) return;
    this.timer = setInterval(() => {
      this.signHeads().then(
        () => (this.lastSigningError = undefined),
        (error: unknown) => (this.lastSigningError = error),
      );
    }, intervalMs);
    this.timer.unref();
  }

  private async signHeads(): Promise<void> {
    await this.digest();
    try {
      await this.proofs.treeHead();
    } catch (error) {
      if (!(error instanceof TreeUnavailableError)) throw error;
    }
  }

  stopSigning(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Walks the whole chain up to the head as it is now, re-hashing every event. */
  async verify(): Promise<ChainReport & { head: { position: string; hash: string } }> {
    const store = this.chainStore();
    const head = await store.chainHead();
    const verifier = new ChainVerifier();
    let after = 0n;
    let next = store.readChain({ after, limit: AUDIT_PAGE_SIZE });
    for (;;) {
      const page = (await next).filter((link) => link.position <= head.position);
      if (page.length === 0) break;
      after = page.at(-1)!.position;
      next = store.readChain({ after, limit: AUDIT_PAGE_SIZE });
      for (const link of page) verifier.push(link);
    }
    return { ...verifier.finish(head), head: { position: head.position.toString(), hash: head.hash } };
  }
}
