import { Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import type { DeadLetter, FraudStore } from '../fraud/fraud-store';
import { DeadLetterIdParams, DeadLettersQuery } from './fraud-schemas';
import { ProblemException, problem } from './problem';
import { parseOrThrow } from './validation';

export const FRAUD_STORE = Symbol('FraudStore');

const json = (letter: DeadLetter) => ({
  ...letter,
  id: letter.id.toString(),
  position: letter.position.toString(),
});

/**
 * Fraud operations: the transfers the scorer could not score (dead letters), and asking for a retry.
 * A retry is taken up by whichever process runs the `fraud` role; the API does not load the model.
 */
@Controller('v1/fraud')
export class FraudController {
  constructor(@Inject(FRAUD_STORE) private readonly fraudStore: FraudStore) {}

  @Get('dead-letters')
  async list(@Query() query: unknown) {
    const { status, limit, cursor } = parseOrThrow(DeadLettersQuery, query, 'query');
    const items = await this.fraudStore.listDeadLetters({
      limit: limit + 1,
      ...(status ? { status } : {}),
      ...(cursor ? { afterId: BigInt(cursor) } : {}),
    });
    const page = items.slice(0, limit);
    return { items: page.map(json), nextCursor: items.length > limit ? page.at(-1)!.id.toString() : null };
  }

  @Post('dead-letters/:id/retry')
  @HttpCode(202)
  async retry(@Param() params: unknown) {
    const { id } = parseOrThrow(DeadLetterIdParams, params, 'path');
    const letter = await this.fraudStore.requestRetry(BigInt(id));
    if (!letter) throw new ProblemException(problem('dead-letter-not-found', `no dead letter ${id}`));
    if (letter.status === 'resolved') {
      throw new ProblemException(
        problem('dead-letter-resolved', `dead letter ${id} was scored on ${letter.resolvedAt}`),
      );
    }
    return json(letter);
  }
}
