import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  PostPendingTransferCommand,
  PostTransfersCommand,
  ReverseTransferCommand,
  VoidPendingTransferCommand,
} from '../commands/handlers';
import type { HoldOutcome, ReverseOutcome, TransfersOutcome } from '../commands/write-commands';
import { isLedgerError } from '../domain/errors';
import type { CatchUp } from '../projections/catch-up';
import { GetTransferQuery } from '../projections/query-handlers';
import type { TransferView } from '../projections/queries';
import { ProblemException, problem, problemFromLedgerError } from './problem';
import { recordedTransferJson, transferViewJson } from './presenters';
import { CATCH_UP, awaitPosition } from './read-gate';
import { commandContext } from './request-context';
import {
  AccountIdParams,
  PostPendingBody,
  ReadQuery,
  ReverseBody,
  PostTransferBody,
  TransferBatchBody,
  VoidPendingBody,
} from './schemas';
import { RequestAdjustmentCommand } from '../commands/period-handlers';
import type { AdjustmentOutcome } from '../commands/write-commands';
import { adjustmentAnswer } from './periods.controller';
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
    const { adjustment, ...input } = parseOrThrow(PostTransferBody, body, 'body');
    if (adjustment === true) {
      // A prior-period adjustment (docs/contract.md, "Closed periods"): recorded, posted once approved.
      const requested: AdjustmentOutcome = await this.commands.execute(
        new RequestAdjustmentCommand({ ...input, effectiveAt: input.effectiveAt! }, commandContext(request)),
      );
      const answer = adjustmentAnswer(requested);
      reply.status(!isLedgerError(requested) && requested.outcome === 'created' ? 202 : 200);
      return answer;
    }
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

  /** Post part or all of a hold (docs/contract.md, "Holds"): 200 with the hold as this post left it. */
  @Post(':id/post')
  @HttpCode(200)
  async postHold(@Param() params: unknown, @Body() body: unknown, @Req() request: FastifyRequest) {
    const { id } = parseOrThrow(AccountIdParams, params, 'path');
    const input = parseOrThrow(PostPendingBody, body, 'body');
    const outcome: HoldOutcome = await this.commands.execute(
      new PostPendingTransferCommand(id, input, commandContext(request)),
    );
    return holdAnswer(outcome);
  }

  @Post(':id/void')
  @HttpCode(200)
  async voidHold(@Param() params: unknown, @Body() body: unknown, @Req() request: FastifyRequest) {
    const { id } = parseOrThrow(AccountIdParams, params, 'path');
    const input = parseOrThrow(VoidPendingBody, body, 'body');
    const outcome: HoldOutcome = await this.commands.execute(
      new VoidPendingTransferCommand(id, input, commandContext(request)),
    );
    return holdAnswer(outcome);
  }

  /** Reverse part or all of a posted transfer (docs/contract.md, "Reversals"): 201 with the reversal. */
  @Post(':id/reverse')
  async reverse(
    @Param() params: unknown,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { id } = parseOrThrow(AccountIdParams, params, 'path');
    const input = parseOrThrow(ReverseBody, body, 'body');
    const outcome: ReverseOutcome = await this.commands.execute(
      new ReverseTransferCommand(id, input, commandContext(request)),
    );
    if (isLedgerError(outcome)) throw new ProblemException(problemFromLedgerError(outcome));
    reply.status(outcome.outcome === 'created' ? 201 : 200);
    return recordedTransferJson(outcome.transfer);
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

function holdAnswer(outcome: HoldOutcome) {
  if (isLedgerError(outcome)) throw new ProblemException(problemFromLedgerError(outcome));
  // Only an expiry can end in nothing, and no route sends one.
  if (outcome.outcome === 'nothing') throw new Error('a post or void decided nothing');
  return recordedTransferJson(outcome.transfer);
}
