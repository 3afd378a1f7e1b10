import type { PathKit } from './lists.openapi';
import {
  DeadLetterIdParams,
  DeadLetterResponse,
  DeadLettersQuery,
  DeadLettersResponse,
  ResolveReviewBody,
  ResolveReviewResponse,
  ReviewTransferParams,
  ReviewsQuery,
  ReviewsResponse,
} from './fraud-schemas';

/** The fraud operations' paths (ADR 0023): review queue, resolutions, dead letters. */
export function fraudPaths(kit: PathKit) {
  const { ok, problemResponses, queryParameters } = kit;
  return {
    '/v1/fraud/reviews': {
      get: {
        summary: 'Transfers scored `review`, oldest first by their recordedAt, in cursor pages (analyst)',
        parameters: queryParameters(ReviewsQuery),
        responses: {
          ...ok('200', ReviewsResponse, 'A page of the review queue'),
          ...problemResponses(400, 401, 403, 429),
        },
      },
    },
    '/v1/fraud/reviews/{transferId}': {
      post: {
        summary:
          "Resolve a transfer's review: `fraud` starts its compensation, `legitimate` releases a held transfer (analyst)",
        description:
          'Idempotent by `id`: the same resolution again answers as the first did. Another resolution of a resolved review: 409 `review-resolved`; the same `id` with another body: 409 `idempotency-conflict`.',
        parameters: [kit.pathParameter('transferId', ReviewTransferParams.shape.transferId)],
        requestBody: kit.body(ResolveReviewBody),
        responses: {
          ...ok('200', ResolveReviewResponse, 'The resolution, with the state of its compensation'),
          ...problemResponses(400, 401, 403, 404, 409, 413, 415, 429, 503),
        },
      },
    },
    '/v1/fraud/dead-letters': {
      get: {
        summary: 'Transfers the fraud scorer could not score (analyst, admin)',
        parameters: queryParameters(DeadLettersQuery),
        responses: {
          ...ok('200', DeadLettersResponse, 'A page of dead letters, oldest first'),
          ...problemResponses(400, 401, 403, 429),
        },
      },
    },
    '/v1/fraud/dead-letters/{id}/retry': {
      post: {
        summary: 'Ask the fraud scorer to score a dead letter again (analyst, admin)',
        parameters: [kit.pathParameter('id', DeadLetterIdParams.shape.id)],
        responses: {
          ...ok('202', DeadLetterResponse, 'Retry requested; the scorer takes it up'),
          ...problemResponses(400, 401, 403, 404, 409, 429),
        },
      },
    },
  };
}
