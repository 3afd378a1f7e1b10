import type { Projector } from './projector';
import type { ReadModels } from './queries';

const POLL_MS = 10;

/**
 * Read-your-writes (guarantee 7): waits until the read models include a position. With a
 * projector in this process it listens to it; otherwise it watches the stored checkpoint.
 */
export class CatchUp {
  constructor(
    private readonly readModels: ReadModels,
    private readonly localProjector: Projector | undefined,
    readonly waitMaxMs: number,
  ) {}

  async waitFor(position: bigint): Promise<boolean> {
    if (this.localProjector?.isRunning) return this.localProjector.waitFor(position, this.waitMaxMs);
    const deadline = Date.now() + this.waitMaxMs;
    for (;;) {
      if ((await this.readModels.checkpoint()) >= position) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}
