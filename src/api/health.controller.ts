import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Config } from '../config';
import type { Readiness } from '../platform/readiness';

export const CONFIG = Symbol('Config');
export const READINESS = Symbol('Readiness');

@Controller('health')
export class HealthController {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(READINESS) private readonly readiness: Readiness,
  ) {}

  /** The process is alive (it answers); nothing else is checked. */
  @Get('live')
  live() {
    return { status: 'up' };
  }

  /** Every dependency and role this process needs, each with its state; 503 if any is down. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const { ready, checks } = await this.readiness.report();
    reply.status(ready ? 200 : 503);
    return { status: ready ? 'up' : 'down', roles: this.config.LEDGER_ROLES, checks };
  }
}
