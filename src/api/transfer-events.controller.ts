import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { z } from 'zod';
import { transferStream } from '../domain/events';
import type { EventStore } from '../eventstore/port';
import { RevisionPageQuery } from './list-schemas';
import { ProblemException, problem } from './problem';
import { Id, Position, Timestamp } from './schemas';
import { parseOrThrow } from './validation';

export const EVENT_STORE = Symbol('EventStore');

export const TransferIdParams = z.strictObject({ id: Id });

export const TransferEventsQuery = RevisionPageQuery;

export const TransferEventsResponse = z
  .object({
    transferId: Id,
    items: z.array(
      z.object({
        position: Position,
        revision: z.string(),
        type: z.string(),
        recordedAt: Timestamp,
        prevHash: z.string().meta({ description: 'Hex SHA-256 of the event before it in the global log' }),
        hash: z.string().meta({ description: "Hex SHA-256 of this event's canonical bytes and prevHash" }),
        data: z.record(z.string(), z.unknown()),
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'TransferEventsPage' });

/**
 * A transfer's own stream, straight from the event store: what was recorded about it and the
 * hash-chain link of each event, so an auditor can see the evidence behind the read model.
 */
@Controller('v1/transfers')
export class TransferEventsController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  @Get(':id/events')
  async events(@Param() params: unknown, @Query() query: unknown) {
    const { id } = parseOrThrow(TransferIdParams, params, 'path');
    const { limit, cursor } = parseOrThrow(TransferEventsQuery, query, 'query');
    const fromRevision = cursor === undefined ? 0n : BigInt(cursor.slice(1));
    const slice = await this.store.readStream(transferStream(id), { fromRevision, limit: limit + 1 });
    if (slice.revision < 0n) {
      throw new ProblemException(problem('transfer-not-found', `no transfer ${id}; post it with POST /v1/transfers`));
    }
    const page = slice.events.slice(0, limit);
    return {
      transferId: id,
      items: page.map((event) => ({
        position: event.position.toString(),
        revision: event.revision.toString(),
        type: event.type,
        recordedAt: event.recordedAt,
        prevHash: event.prevHash,
        hash: event.hash,
        data: event.data,
      })),
      nextCursor: slice.events.length > limit ? `r${fromRevision + BigInt(limit)}` : null,
    };
  }
}
