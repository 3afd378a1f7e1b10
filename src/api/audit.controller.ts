import { Body, Controller, Get, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { AUDITOR, type Auditor, ChainUnavailableError } from '../audit/auditor';
import { BeyondLogError, TreeBehindError, TreeUnavailableError } from '../audit/log-proofs';
import { NotCaughtUpError, UnknownAccountsError } from '../audit/replay';
import { ConsistencyQuery, InclusionQuery, TreeHeadQuery } from './audit-schemas';
import { ProblemException, problem } from './problem';
import { EmptyQuery, ReplayBody } from './schemas';
import { parseOrThrow } from './validation';

/** /v1/audit: replays from the event store, the signed chain head, and a walk of the chain (ADR 0006). */
@Controller('v1/audit')
export class AuditController {
  constructor(@Inject(AUDITOR) private readonly auditor: Auditor) {}

  @Post('replay')
  @HttpCode(200)
  async replay(@Body() body: unknown) {
    const input = parseOrThrow(ReplayBody, body, 'body');
    const knownAt = input.knownAt ?? new Date().toISOString();
    try {
      return await this.auditor.replay({
        asOf: input.asOf,
        knownAt,
        ...(input.accountIds ? { accountIds: input.accountIds } : {}),
      });
    } catch (error) {
      if (error instanceof UnknownAccountsError) {
        throw new ProblemException(
          problem('account-not-found', `${error.message}; leave accountIds out to replay every account`),
        );
      }
      if (error instanceof NotCaughtUpError) {
        throw new ProblemException(
          problem('not-caught-up', `${error.message}, so the comparison would not be fair; retry shortly`),
          { 'retry-after': '1' },
        );
      }
      throw error;
    }
  }

  @Get('digest')
  digest(@Query() query: unknown) {
    parseOrThrow(EmptyQuery, query, 'query');
    return chainOnly(() => this.auditor.digest());
  }

  @Get('public-key')
  publicKey(@Query() query: unknown) {
    parseOrThrow(EmptyQuery, query, 'query');
    return { algorithm: 'Ed25519', keyId: this.auditor.key.keyId, publicKey: this.auditor.key.publicKeyPem };
  }

  @Get('public-keys')
  async publicKeys(@Query() query: unknown) {
    parseOrThrow(EmptyQuery, query, 'query');
    return { keys: await this.auditor.registry.list() };
  }

  @Get('tree-head')
  treeHead(@Query() query: unknown) {
    const { size } = parseOrThrow(TreeHeadQuery, query, 'query');
    return treeOnly(() => this.auditor.proofs.treeHead(size));
  }

  @Get('proofs/inclusion')
  inclusion(@Query() query: unknown) {
    const { position, treeSize } = parseOrThrow(InclusionQuery, query, 'query');
    return treeOnly(() => this.auditor.proofs.inclusion(BigInt(position), treeSize));
  }

  @Get('proofs/consistency')
  consistency(@Query() query: unknown) {
    const { from, to } = parseOrThrow(ConsistencyQuery, query, 'query');
    return treeOnly(() => this.auditor.proofs.consistency(from, to));
  }

  @Get('verify')
  verify(@Query() query: unknown) {
    parseOrThrow(EmptyQuery, query, 'query');
    return chainOnly(() => this.auditor.verify());
  }
}

async function chainOnly<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ChainUnavailableError) throw new ProblemException(problem('unavailable', error.message));
    throw error;
  }
}

/** The tree's refusals as problems: beyond the log is the client's (422), behind the log is ours for a moment (503). */
async function treeOnly<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof BeyondLogError)
      throw new ProblemException(
        problem(error.what === 'position' ? 'position-out-of-range' : 'tree-size-out-of-range', error.message),
      );
    if (error instanceof TreeBehindError)
      throw new ProblemException(problem('not-caught-up', error.message), { 'retry-after': '1' });
    if (error instanceof TreeUnavailableError) throw new ProblemException(problem('unavailable', error.message));
    throw error;
  }
}
