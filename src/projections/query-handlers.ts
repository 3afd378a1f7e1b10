import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import type { AccountView, BalanceView, EntryView, ReadModels, TransferView } from './queries';

export const READ_MODELS = Symbol('ReadModels');

export class GetAccountQuery {
  constructor(readonly accountId: string) {}
}
export class GetTransferQuery {
  constructor(readonly transferId: string) {}
}
export class ListEntriesQuery {
  constructor(
    readonly accountId: string,
    readonly afterSeq: bigint,
    readonly limit: number,
  ) {}
}
export class GetBalanceQuery {
  constructor(
    readonly accountId: string,
    readonly asOf: string,
    readonly knownAt: string,
  ) {}
}

@QueryHandler(GetAccountQuery)
export class GetAccountHandler implements IQueryHandler<GetAccountQuery, AccountView | undefined> {
  constructor(@Inject(READ_MODELS) private readonly readModels: ReadModels) {}
  execute(query: GetAccountQuery) {
    return this.readModels.account(query.accountId);
  }
}

@QueryHandler(GetTransferQuery)
export class GetTransferHandler implements IQueryHandler<GetTransferQuery, TransferView | undefined> {
  constructor(@Inject(READ_MODELS) private readonly readModels: ReadModels) {}
  execute(query: GetTransferQuery) {
    return this.readModels.transfer(query.transferId);
  }
}

@QueryHandler(ListEntriesQuery)
export class ListEntriesHandler
  implements IQueryHandler<ListEntriesQuery, { items: EntryView[]; lastSeq?: bigint; more: boolean } | undefined>
{
  constructor(@Inject(READ_MODELS) private readonly readModels: ReadModels) {}
  async execute(query: ListEntriesQuery) {
    if (!(await this.readModels.account(query.accountId))) return undefined;
    return this.readModels.entries(query.accountId, query.afterSeq, query.limit);
  }
}

@QueryHandler(GetBalanceQuery)
export class GetBalanceHandler implements IQueryHandler<GetBalanceQuery, BalanceView | undefined> {
  constructor(@Inject(READ_MODELS) private readonly readModels: ReadModels) {}
  execute(query: GetBalanceQuery) {
    return this.readModels.balanceAt(query.accountId, query.asOf, query.knownAt);
  }
}

export const QUERY_HANDLERS = [GetAccountHandler, GetTransferHandler, ListEntriesHandler, GetBalanceHandler];
