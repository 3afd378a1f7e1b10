import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { isLedgerError } from '../domain/errors';
import type { DeadLetter, FraudStore } from '../fraud/fraud-store';
import type { FraudReviews } from '../fraud/fraud-reviews';
import type { ReviewView } from '../fraud/review-read-model';
import {
  DeadLetterIdParams,
  DeadLettersQuery,
  ResolveReviewBody,
  ReviewTransferParams,
  ReviewsQuery,
} from './fraud-schemas';
import { decodeListCursor, encodeListCursor } from './list-cursor';
import { ProblemException, problem, problemFromLedgerError } from './problem';
import { commandContext } from './request-context';
import { parseOrThrow } from './validation';

export const FRAUD_STORE = Symbol('FraudStore');
export const FRAUD_REVIEWS = Symbol('FraudReviews');

const json = (letter: DeadLetter) => ({
  ...letter,
  id: letter.id.toString(),
  position: letter.position.toString(),
});

const reviewJson = ({ review, compensation }: { review: ReviewView; compensation: { state: string } }) => ({
  transferId: review.transferId,
  status: review.status,
  recordedAt: review.recordedAt,
  debitAccountId: review.debitAccountId,
  creditAccountId: review.creditAccountId,
  amount: review.amount.toString(),
  currency: review.currency,
  risk: review.risk,
  resolution: review.resolution,
  compensation,
});

/**
 * Fraud operations (docs/contract.md, "Fraud reviews"; ADR 0023): the review queue and its
 * resolutions, and the transfers the scorer could not score (dead letters). A retry is taken up by
 * whichever process runs the `fraud` role; the API does not load the model.
 */
@Controller('v1/fraud')
export class FraudController {
  constructor(
    @Inject(FRAUD_STORE) private readonly fraudStore: FraudStore,
    @Inject(FRAUD_REVIEWS) private readonly reviews: FraudReviews,
  ) {}

  @Get('reviews')
  async listReviews(@Query() query: unknown) {
    const { status, limit, cursor } = parseOrThrow(ReviewsQuery, query, 'query');
    const after = cursor === undefined ? undefined : decodeListCursor('fraud-reviews', cursor);
    if (cursor !== undefined && !after) {
      throw new ProblemException(
        problem('validation', 'cursor is not one this service gave out for the review queue', {
          errors: [{ path: 'query.cursor', message: 'is not a review-queue cursor this service gave out' }],
        }),
      );
    }
    const page = await this.reviews.list({ status, limit, ...(after ? { after } : {}) });
    return {
      items: page.items.map(reviewJson),
      nextCursor: page.next ? encodeListCursor('fraud-reviews', page.next) : null,
    };
  }

  @Post('reviews/:transferId')
  @HttpCode(200)
  async resolveReview(@Param() params: unknown, @Body() body: unknown, @Req() request: FastifyRequest) {
    const { transferId } = parseOrThrow(ReviewTransferParams, params, 'path');
    const input = parseOrThrow(ResolveReviewBody, body, 'body');
    const answer = await this.reviews.resolve(transferId, input, commandContext(request));
    if (isLedgerError(answer)) throw new ProblemException(problemFromLedgerError(answer));
    return answer;
  }

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
