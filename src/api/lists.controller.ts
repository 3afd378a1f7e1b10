import { z } from 'zod';
import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { balanceOf } from '../domain/account';
import type { CatchUp } from '../projections/catch-up';
import type { Keyset, ReadLists } from '../projections/lists';
import { historyInstants } from '../projections/balance-history';
import { type ListName, decodeListCursor, encodeListCursor } from './list-cursor';
import {
  BalanceHistoryQuery,
  ListAccountsQuery,
  ListTransfersQuery,
  METADATA_PREFIX,
  MetadataFilter,
} from './list-schemas';
import { accountJson, transferViewJson } from './presenters';
import { ProblemException, problem } from './problem';
import { CATCH_UP, awaitPosition } from './read-gate';
import { AccountIdParams } from './schemas';
import { parseOrThrow } from './validation';
import { FRAUD_REVIEWS } from './fraud.controller';
import type { FraudReviews } from '../fraud/fraud-reviews';

export const READ_LISTS = Symbol('ReadLists');

/** Splits `metadata.<key>=<value>` query keys from the rest; each part is then validated on its own. */
function splitQuery(query: unknown): { rest: Record<string, unknown>; metadata: Record<string, unknown> } {
  const rest: Record<string, unknown> = {};
  const metadata: Record<string, unknown> = {};
  for (const [key, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (key.startsWith(METADATA_PREFIX)) metadata[key.slice(METADATA_PREFIX.length)] = value;
    else rest[key] = value;
  }
  return { rest, metadata };
}

/** The `metadata.<key>` part of a list query; errors name the key as sent (query.metadata.<key>). */
const MetadataQuery = z.strictObject({ metadata: MetadataFilter });
const parseMetadataFilter = (metadata: Record<string, unknown>): Record<string, string> =>
  parseOrThrow(MetadataQuery, { metadata }, 'query').metadata;

function keysetOf(list: ListName, cursor: string | undefined): Keyset | undefined {
  if (cursor === undefined) return undefined;
  const keyset = decodeListCursor(list, cursor);
  if (keyset) return keyset;
  throw new ProblemException(
    problem('validation', `cursor is not one this service gave out for the ${list} list`, {
      errors: [{ path: 'query.cursor', message: `is not a ${list} cursor this service gave out` }],
    }),
  );
}

const accountNotFound = (id: string) =>
  new ProblemException(problem('account-not-found', `no account ${id}; open it with POST /v1/accounts`));

/** The list and history reads (ADR 0025): GET /v1/accounts, GET /v1/transfers, balance-history. */
@Controller('v1')
export class ListsController {
  constructor(
    @Inject(READ_LISTS) private readonly lists: ReadLists,
    @Inject(CATCH_UP) private readonly catchUp: CatchUp,
    @Inject(FRAUD_REVIEWS) private readonly fraudReviews: FraudReviews,
  ) {}

  @Get('accounts')
  async accounts(@Query() query: unknown) {
    const { rest, metadata: filter } = splitQuery(query);
    const parsed = parseOrThrow(ListAccountsQuery, rest, 'query');
    const metadata = parseMetadataFilter(filter);
    const after = keysetOf('accounts', parsed.cursor);
    await awaitPosition(this.catchUp, parsed.minPosition);
    const page = await this.lists.accounts({
      ...(parsed.currency !== undefined ? { currency: parsed.currency } : {}),
      ...(parsed.status !== undefined ? { status: parsed.status } : {}),
      ...(parsed.code !== undefined ? { code: parsed.code } : {}),
      metadata,
      ...(after ? { after } : {}),
      limit: parsed.limit,
    });
    return {
      items: page.items.map((account) => accountJson(account, account.position)),
      nextCursor: page.next ? encodeListCursor('accounts', page.next) : null,
    };
  }

  @Get('transfers')
  async transfers(@Query() query: unknown) {
    const { rest, metadata: filter } = splitQuery(query);
    const parsed = parseOrThrow(ListTransfersQuery, rest, 'query');
    const metadata = parseMetadataFilter(filter);
    const after = keysetOf('transfers', parsed.cursor);
    await awaitPosition(this.catchUp, parsed.minPosition);
    const page = await this.lists.transfers({
      ...(parsed.accountId !== undefined ? { accountId: parsed.accountId } : {}),
      ...(parsed.status !== undefined ? { status: parsed.status } : {}),
      ...(parsed.from !== undefined ? { from: parsed.from } : {}),
      ...(parsed.to !== undefined ? { to: parsed.to } : {}),
      metadata,
      ...(after ? { after } : {}),
      limit: parsed.limit,
    });
    const risks = await this.fraudReviews.risks(page.items.map((t) => t.id));
    return {
      items: page.items.map((t) => {
        const risk = risks.get(t.id);
        return { ...transferViewJson(t), ...(risk ? { risk } : {}) };
      }),
      nextCursor: page.next ? encodeListCursor('transfers', page.next) : null,
    };
  }

  @Get('accounts/:id/balance-history')
  async balanceHistory(@Param() params: unknown, @Query() query: unknown) {
    const { id } = parseOrThrow(AccountIdParams, params, 'path');
    const q = parseOrThrow(BalanceHistoryQuery, query, 'query');
    await awaitPosition(this.catchUp, q.minPosition);
    const now = new Date().toISOString();
    const openedAt = await this.lists.openedAt(id);
    if (openedAt === undefined) throw accountNotFound(id);
    const to = q.to ?? (q.from !== undefined && q.from > now ? q.from : now);
    const from = q.from ?? (openedAt <= to ? openedAt : to);
    const knownAt = q.knownAt ?? now;
    const instants = historyInstants(Date.parse(from), Date.parse(to), q.points);
    const history = await this.lists.history(id, instants, knownAt);
    if (!history) throw accountNotFound(id);
    return {
      accountId: id,
      currency: history.currency,
      from,
      to,
      knownAt,
      points: history.points.map((point) => ({
        at: new Date(point.atMs).toISOString(),
        balance: balanceOf({ normalSide: history.normalSide, ...point }).toString(),
        debitsPosted: point.debitsPosted.toString(),
        creditsPosted: point.creditsPosted.toString(),
      })),
    };
  }
}
