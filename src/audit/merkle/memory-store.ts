import type { SubtreeHash } from './tree-builder';
import type { Subtree, SubtreeStore } from './subtrees';

/** Complete subtrees kept in memory, level by level: for tests, the offline auditor and the bench. */
export class MemorySubtreeStore implements SubtreeStore {
  private readonly levels: Buffer[][] = [];

  put(nodes: readonly SubtreeHash[]): void {
    for (const node of nodes) {
      const level = (this.levels[node.level] ??= []);
      level[node.index] = node.hash;
    }
  }

  async hashes(subtrees: readonly Subtree[]): Promise<readonly Uint8Array[]> {
    return subtrees.map(({ level, index }) => {
      const hash = this.levels[level]?.[index];
      if (!hash) throw new Error(`subtree (${level}, ${index}) is not complete in this store`);
      return hash;
    });
  }
}
