import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApproveAdjustmentCommand, ClosePeriodCommand } from '../commands/period-handlers';
import { foldAdjustment, latestCloseOf, type LatestClose } from '../commands/period-states';
import type { AdjustmentOutcome, ClosePeriodOutcome } from '../commands/write-commands';
import { type Adjustment, PERIODS_STREAM, adjustmentStream } from '../domain/closed-period';
import { isLedgerError } from '../domain/errors';
import type { EventStore } from '../eventstore/port';
import { AdjustmentParams, ClosePeriodBody, PeriodsQuery } from './period-schemas';
import { ProblemException, problem, problemFromLedgerError } from './problem';
import { commandContext } from './request-context';
import { EVENT_STORE } from './transfer-events.controller';
import { parseOrThrow } from './validation';

const closeJson = (close: LatestClose) => ({
  through: close.through,
  reason: close.reason,
  closedBy: close.closedBy,
  closedAt: close.closedAt,
  position: close.position.toString(),
});

/** The contract's Adjustment (docs/contract.md, "Closed periods"). */
export function adjustmentJson(adjustment: Adjustment, position: bigint) {
  const { transfer } = adjustment;
  return {
    id: adjustment.id,
    status: adjustment.status,
    transfer: {
      id: transfer.transferId,
      debitAccountId: transfer.debitAccountId,
      creditAccountId: transfer.creditAccountId,
      amount: transfer.amount,
      currency: transfer.currency,
      ...(transfer.code !== undefined ? { code: transfer.code } : {}),
      ...(transfer.reference !== undefined ? { reference: transfer.reference } : {}),
      metadata: transfer.metadata,
      effectiveAt: transfer.effectiveAt,
    },
    closedThrough: adjustment.closedThrough,
    requestedBy: adjustment.requestedBy,
    requestedAt: adjustment.requestedAt,
    ...(adjustment.approvedBy !== undefined ? { approvedBy: adjustment.approvedBy } : {}),
    ...(adjustment.approvedAt !== undefined ? { approvedAt: adjustment.approvedAt } : {}),
    position: position.toString(),
  };
}

/** An adjustment's answer, or its refusal as a problem. */
export function adjustmentAnswer(outcome: AdjustmentOutcome) {
  if (isLedgerError(outcome)) throw new ProblemException(problemFromLedgerError(outcome));
  return adjustmentJson(outcome.adjustment, outcome.position);
}

/**
 * Closed periods and prior-period adjustments (ADR 0033). Commands go through the writer; the reads
 * come from the log itself (the periods stream, an adjustment's stream), so they are never behind.
 */
@Controller('v1')
export class PeriodsController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  @Post('periods/close')
  async close(@Body() body: unknown, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const input = parseOrThrow(ClosePeriodBody, body, 'body');
    const outcome: ClosePeriodOutcome = await this.commands.execute(
      new ClosePeriodCommand(input, commandContext(request)),
    );
    if (isLedgerError(outcome)) throw new ProblemException(problemFromLedgerError(outcome));
    reply.status(outcome.outcome === 'created' ? 201 : 200);
    return closeJson(outcome);
  }

  @Get('periods')
  async list(@Query() query: unknown) {
    const { limit, cursor } = parseOrThrow(PeriodsQuery, query, 'query');
    const fromRevision = cursor === undefined ? 0n : BigInt(cursor.slice(1));
    const [slice, head] = await Promise.all([
      this.store.readStream(PERIODS_STREAM, { fromRevision, limit: limit + 1 }),
      // The latest close: the stream's last event (the head revision of this same read may be newer; fine).
      this.store.streamRevisions([PERIODS_STREAM]),
    ]);
    const last = head.get(PERIODS_STREAM) ?? -1n;
    const latest =
      last < 0n ? undefined : (await this.store.readStream(PERIODS_STREAM, { fromRevision: last, limit: 1 })).events[0];
    const page = slice.events.slice(0, limit);
    return {
      closedThrough: latest ? latestCloseOf(latest).through : null,
      items: page.map((event) => closeJson(latestCloseOf(event))),
      nextCursor: slice.events.length > limit ? `r${fromRevision + BigInt(limit)}` : null,
    };
  }

  @Get('adjustments/:id')
  async get(@Param() params: unknown) {
    const { id } = parseOrThrow(AdjustmentParams, params, 'path');
    const slice = await this.store.readStream(adjustmentStream(id), { limit: 10 });
    const loaded = foldAdjustment(slice.events, slice.revision);
    if (!loaded) {
      throw new ProblemException(
        problem(
          'adjustment-not-found',
          `no adjustment ${id}; request one with POST /v1/transfers and adjustment: true`,
        ),
      );
    }
    return adjustmentJson(loaded.adjustment, loaded.position);
  }

  @Post('adjustments/:id/approve')
  @HttpCode(200)
  async approve(@Param() params: unknown, @Req() request: FastifyRequest) {
    const { id } = parseOrThrow(AdjustmentParams, params, 'path');
    const outcome: AdjustmentOutcome = await this.commands.execute(
      new ApproveAdjustmentCommand(id, commandContext(request)),
    );
    return adjustmentAnswer(outcome);
  }
}
