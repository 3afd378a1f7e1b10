import { Controller, Get, Inject, Param, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AUDITOR, type Auditor } from '../audit/auditor';
import { TreeBehindError, TreeUnavailableError } from '../audit/log-proofs';
import {
  STATEMENT_ENTRIES_MAX,
  StatementAccountNotFoundError,
  StatementTooLargeError,
  buildStatement,
  statementCsv,
  statementJson,
} from '../audit/statement';
import type { SignedTreeHead } from '../audit/tree-head';
import type { CatchUp } from '../projections/catch-up';
import { StatementQuery } from './audit-schemas';
import { ProblemException, problem } from './problem';
import { CATCH_UP, awaitPosition } from './read-gate';
import { AccountIdParams } from './schemas';
import { parseOrThrow } from './validation';

/** How long a statement waits for the Merkle tree to reach the read models before 503. */
const TREE_WAIT_MS = 2_000;

/** GET /v1/accounts/{id}/statement: a period's statement as known at a time, with a signed tree head (ADR 0021). */
@Controller('v1/accounts')
export class StatementController {
  constructor(
    @Inject(AUDITOR) private readonly auditor: Auditor,
    @Inject(CATCH_UP) private readonly catchUp: CatchUp,
  ) {}

  @Get(':id/statement')
  async statement(@Param() params: unknown, @Query() query: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const { id } = parseOrThrow(AccountIdParams, params, 'path');
    const { from, to, knownAt, format, minPosition } = parseOrThrow(StatementQuery, query, 'query');
    await awaitPosition(this.catchUp, minPosition);
    let statement: Awaited<ReturnType<typeof buildStatement>>;
    try {
      statement = await buildStatement(
        this.auditor.db,
        { accountId: id, from, to, knownAt: knownAt ?? new Date().toISOString() },
        (position) => this.treeHeadCovering(position),
        (at) => this.auditor.closedThroughAt(at),
      );
    } catch (error) {
      if (error instanceof StatementAccountNotFoundError)
        throw new ProblemException(problem('account-not-found', `no account ${id}`));
      if (error instanceof StatementTooLargeError)
        throw new ProblemException(
          problem('statement-too-large', `${error.message} (at most ${STATEMENT_ENTRIES_MAX})`),
        );
      throw error;
    }
    if (format === 'json') return statementJson(statement);
    reply.header('content-type', 'text/csv; charset=utf-8');
    reply.header('content-disposition', `attachment; filename="statement-${id.replace(/[^A-Za-z0-9._-]/g, '_')}.csv"`);
    return statementCsv(statement);
  }

  /** The head of the tree of exactly the read models' events, once the tree has them. */
  private async treeHeadCovering(position: bigint): Promise<SignedTreeHead | null> {
    const deadline = Date.now() + TREE_WAIT_MS;
    for (;;) {
      try {
        return await this.auditor.proofs.treeHead(Number(position));
      } catch (error) {
        if (error instanceof TreeUnavailableError) return null;
        if (!(error instanceof TreeBehindError)) throw error;
        if (Date.now() > deadline)
          throw new ProblemException(problem('not-caught-up', error.message), { 'retry-after': '1' });
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
  }
}
