import type { CatchUp } from '../projections/catch-up';
import { ProblemException, problem } from './problem';

export const CATCH_UP = Symbol('CatchUp');

/** Waits for `minPosition` (when given) or throws 503 not-caught-up. */
export async function awaitPosition(catchUp: CatchUp, minPosition: string | undefined): Promise<void> {
  if (minPosition === undefined) return;
  if (await catchUp.waitFor(BigInt(minPosition))) return;
  throw new ProblemException(
    problem(
      'not-caught-up',
      `the read models have not reached position ${minPosition} within ${catchUp.waitMaxMs} ms; retry shortly`,
    ),
    { 'retry-after': '1' },
  );
}
