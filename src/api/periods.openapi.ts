import type { PathKit } from './lists.openapi';
import {
  AdjustmentParams,
  AdjustmentResponse,
  ClosePeriodBody,
  ClosedPeriodResponse,
  PeriodsQuery,
  PeriodsResponse,
} from './period-schemas';

/** Closed periods and prior-period adjustments (docs/contract.md, "Closed periods"; ADR 0033). */
export function periodPaths(kit: PathKit) {
  const { ok, problemResponses, queryParameters } = kit;
  const id = kit.pathParameter('id', AdjustmentParams.shape.id);
  return {
    '/v1/periods/close': {
      post: {
        summary: 'Close the books through an instant (admin): later postings that count at or before it are refused',
        description:
          'Monotonic: a close must be later than the one before (422 `period-close-not-later`), and in the past (422 `period-not-over`); nothing reopens. The same close again answers 200 and changes nothing.',
        requestBody: kit.body(ClosePeriodBody),
        responses: {
          ...ok('201', ClosedPeriodResponse, 'Closed'),
          ...ok('200', ClosedPeriodResponse, 'Closed through this instant before (the first reason stands)'),
          ...problemResponses(400, 401, 403, 413, 415, 422, 429, 503),
        },
      },
    },
    '/v1/periods': {
      get: {
        summary: 'Every close of the books, oldest first, and the instant they are closed through (from the log)',
        parameters: queryParameters(PeriodsQuery),
        responses: {
          ...ok('200', PeriodsResponse, 'A page of closes'),
          ...problemResponses(400, 401, 403, 429),
        },
      },
    },
    '/v1/adjustments/{id}': {
      get: {
        summary: 'A prior-period adjustment: pending, or approved (and by whom) (from the log)',
        parameters: [id],
        responses: {
          ...ok('200', AdjustmentResponse, 'The adjustment'),
          ...problemResponses(400, 401, 403, 404, 429),
        },
      },
    },
    '/v1/adjustments/{id}/approve': {
      post: {
        summary: 'Approve a prior-period adjustment with a key other than the one that requested it (admin): it posts',
        description:
          'Four eyes: the requesting key is refused (403 `self-approval`). Approving an approved adjustment again answers 200 with the first approval and changes nothing. The transfer is decided again at approval (funds, account status).',
        parameters: [id],
        responses: {
          ...ok('200', AdjustmentResponse, 'Approved and posted (or approved before)'),
          ...problemResponses(400, 401, 403, 404, 409, 422, 429, 503),
        },
      },
    },
  };
}
