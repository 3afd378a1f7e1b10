import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { sql } from 'kysely';
import type { Config } from '../config';
import type { Database } from '../platform/database';
import type { Projector } from '../projections/projector';

export const DATABASE = Symbol('Database');
export const CONFIG = Symbol('Config');
export const PROJECTOR = Symbol('Projector');

type Check = { status: 'up' | 'down' | 'off'; [detail: string]: unknown };

@Controller('health')
export class HealthController {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(PROJECTOR) private readonly projector: Projector | null,
  ) {}

  /** The process is alive (it answers); nothing else is checked. */
  @Get('live')
  live() {
    return { status: 'up' };
  }

  /** Every dependency and role this process needs, each with its state; 503 if any is down. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const checks: Record<string, Check> = {};
    try {
      await sql`select 1`.execute(this.database.db);
      checks.database = { status: 'up', kind: this.database.kind };
    } catch (error) {
      checks.database = { status: 'down', kind: this.database.kind, error: (error as Error).message };
    }
    if (this.projector) {
      const failing = this.projector.lastError !== undefined || !this.projector.isRunning;
      checks.projector = {
        status: failing ? 'down' : 'up',
        position: this.projector.checkpoint.toString(),
        lagMs: this.projector.lastLagMs,
        ...(this.projector.lastError ? { error: String((this.projector.lastError as Error).message ?? this.projector.lastError) } : {}),
      };
    } else {
      checks.projector = { status: 'off' };
    }
    const up = Object.values(checks).every((check) => check.status !== 'down');
    reply.status(up ? 200 : 503);
    return { status: up ? 'up' : 'down', roles: this.config.LEDGER_ROLES, checks };
  }
}
