import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PostTransfersCommand } from '../commands/handlers';
import type { TransfersOutcome } from '../commands/write-commands';
import type { CatchUp } from '../projections/catch-up';
import { GetTransferQuery } from '../projections/query-handlers';
import type { TransferView } from '../projections/queries';
import { ProblemException, problem, problemFromLedgerError } from './problem';
import { recordedTransferJson, transferViewJson } from './presenters';
import { CATCH_UP, awaitPosition } from './read-gate';
import { commandContext } from './request-context';
import { AccountIdParams, ReadQuery, TransferBatchBody, TransferBody } from './schemas';
import { parseOrThrow } from './validation';
import { FRAUD_REVIEWS } from './fraud.controller';
import type { FraudReviews } from '../fraud/fraud-reviews';

@Controller('v1/transfers')
export class TransfersController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
    @Inject(CATCH_UP) private readonly catchUp: CatchUp,
    @Inject(FRAUD_REVIEWS) private readonly fraudReviews: FraudReviews,
  ) {}

  @Post()
  async post(@Body() body: unknown, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const input = parseOrThrow(TransferBody, body, 'body');
    const outcome: TransfersOutcome = await this.commands.execute(
      new PostTransfersCommand([input], false, commandContext(request)),
    );
    const item = outcome.items[0]!;
    if (item.outcome === 'failed') throw new ProblemException(problemFromLedgerError(item.error));
    reply.status(item.outcome === 'created' ? 201 : 200);
    return recordedTransferJson(item.transfer);
  }

  @Post('batch')
  @HttpCode(200)
  async batch(@Body() body: unknown, @Req() request: FastifyRequest) {
    const { transfers, atomic } = parseOrThrow(TransferBatchBody, body, 'body');
    const outcome: TransfersOutcome = await this.commands.execute(
      new PostTransfersCommand(transfers, atomic, commandContext(request)),
    );
    return {
      results: outcome.items.map((item, i) =>
        item.outcome === 'failed'
          ? { id: transfers[i]!.id, status: 'failed', problem: problemFromLedgerError(item.error) }
          : { id: transfers[i]!.id, status: item.outcome, transfer: recordedTransferJson(item.transfer) },
      ),
      position: outcome.position.toString(),
    };
  }

  @Get(':id')
  async get(@Param() params: unknown, @Query() query: unknown) {
    const { id } = parseOrThrow(AccountIdParams, params, 'path');
    const { minPosition } = parseOrThrow(ReadQuery, query, 'query');
    await awaitPosition(this.catchUp, minPosition);
    const transfer: TransferView | undefined = await this.queries.execute(new GetTransferQuery(id));
    if (!transfer) throw new ProblemException(problem('transfer-not-found', `no transfer ${id}`));
    const risk = (await this.fraudReviews.risks([id])).get(id);
    return { ...transferViewJson(transfer), ...(risk ? { risk } : {}) };
  }
}
