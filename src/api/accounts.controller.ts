import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ChangeAccountStatusCommand, OpenAccountCommand } from '../commands/handlers';
import type { OpenAccountOutcome, StatusChangeOutcome } from '../commands/write-commands';
import type { ChangeAccountStatus } from '../domain/account';
import { isLedgerError } from '../domain/errors';
import type { CatchUp } from '../projections/catch-up';
import { GetAccountQuery, GetBalanceQuery, ListEntriesQuery } from '../projections/query-handlers';
import type { AccountView, BalanceView, EntryView } from '../projections/queries';
import { ProblemException, problem, problemFromLedgerError } from './problem';
import { accountJson, balanceJson, decodeCursor, encodeCursor, entryJson } from './presenters';
import { CATCH_UP, awaitPosition } from './read-gate';
import { commandContext } from './request-context';
import { AccountIdParams, BalanceQuery, EntriesQuery, OpenAccountBody, ReadQuery, StatusChangeBody } from './schemas';
import { parseOrThrow } from './validation';

const notFound = (id: string) =>
  new ProblemException(problem('account-not-found', `no account ${id}; open it with POST /v1/accounts`));

@Controller('v1/accounts')
export class AccountsController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
    @Inject(CATCH_UP) private readonly catchUp: CatchUp,
  ) {}

  @Post()
  async open(@Body() body: unknown, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const input = parseOrThrow(OpenAccountBody, body, 'body');
    const outcome: OpenAccountOutcome = await this.commands.execute(
      new OpenAccountCommand(input, commandContext(request)),
    );
    if (isLedgerError(outcome)) throw new ProblemException(problemFromLedgerError(outcome));
    reply.status(outcome.outcome === 'created' ? 201 : 200);
    return accountJson(outcome.account, outcome.position);
  }

  @Get(':id')
  async get(@Param() params: unknown, @Query() query: unknown) {
    const { id } = parseOrThrow(AccountIdParams, params, 'path');
    const { minPosition } = parseOrThrow(ReadQuery, query, 'query');
    await awaitPosition(this.catchUp, minPosition);
    const account: AccountView | undefined = await this.queries.execute(new GetAccountQuery(id));
    if (!account) throw notFound(id);
    return accountJson(account, account.position);
  }

  @Get(':id/balance')
  async balance(@Param() params: unknown, @Query() query: unknown) {
    const { id } = parseOrThrow(AccountIdParams, params, 'path');
    const { asOf, knownAt, minPosition } = parseOrThrow(BalanceQuery, query, 'query');
    await awaitPosition(this.catchUp, minPosition);
    const now = new Date().toISOString();
    const at = asOf ?? now;
    const known = knownAt ?? now;
    const balance: BalanceView | undefined = await this.queries.execute(new GetBalanceQuery(id, at, known));
    if (!balance) throw notFound(id);
    return balanceJson(balance, at, known);
  }

  @Get(':id/entries')
  async entries(@Param() params: unknown, @Query() query: unknown) {
    const { id } = parseOrThrow(AccountIdParams, params, 'path');
    const { limit, cursor, minPosition } = parseOrThrow(EntriesQuery, query, 'query');
    const afterSeq = cursor === undefined ? 0n : decodeCursor(cursor);
    if (afterSeq === undefined) {
      throw new ProblemException(
        problem('validation', 'cursor is not one this service gave out', {
          errors: [{ path: 'query.cursor', message: 'is not a cursor this service gave out' }],
        }),
      );
    }
    await awaitPosition(this.catchUp, minPosition);
    const page: { items: EntryView[]; lastSeq?: bigint; more: boolean } | undefined = await this.queries.execute(
      new ListEntriesQuery(id, afterSeq, limit),
    );
    if (!page) throw notFound(id);
    return {
      items: page.items.map(entryJson),
      nextCursor: page.more && page.lastSeq !== undefined ? encodeCursor(page.lastSeq) : null,
    };
  }

  @Post(':id/freeze')
  @HttpCode(200)
  freeze(@Param() params: unknown, @Body() body: unknown, @Req() request: FastifyRequest) {
    return this.changeStatus('FreezeAccount', params, body, request);
  }

  @Post(':id/unfreeze')
  @HttpCode(200)
  unfreeze(@Param() params: unknown, @Body() body: unknown, @Req() request: FastifyRequest) {
    return this.changeStatus('UnfreezeAccount', params, body, request);
  }

  @Post(':id/close')
  @HttpCode(200)
  close(@Param() params: unknown, @Body() body: unknown, @Req() request: FastifyRequest) {
    return this.changeStatus('CloseAccount', params, body, request);
  }

  private async changeStatus(
    type: ChangeAccountStatus['type'],
    params: unknown,
    body: unknown,
    request: FastifyRequest,
  ) {
    const { id } = parseOrThrow(AccountIdParams, params, 'path');
    const { reason } = parseOrThrow(StatusChangeBody, body, 'body');
    const outcome: StatusChangeOutcome = await this.commands.execute(
      new ChangeAccountStatusCommand(type, id, reason, commandContext(request)),
    );
    if (isLedgerError(outcome)) throw new ProblemException(problemFromLedgerError(outcome));
    return accountJson(outcome.account, outcome.position);
  }
}
