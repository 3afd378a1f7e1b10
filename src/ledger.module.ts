import { type DynamicModule, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AccountsController } from './api/accounts.controller';
import { AuditController } from './api/audit.controller';
import { StatementController } from './api/statement.controller';
import { PeriodsController } from './api/periods.controller';
import { PERIOD_COMMAND_HANDLERS } from './commands/period-handlers';
import { AUDITOR, type Auditor } from './audit/auditor';
import { FRAUD_REVIEWS, FRAUD_STORE, FraudController } from './api/fraud.controller';
import { CONFIG, HealthController, READINESS } from './api/health.controller';
import { RATE_LIMIT_GUARD } from './api/auth/rate-limit';
import { CATCH_UP } from './api/read-gate';
import { TransfersController } from './api/transfers.controller';
import { ListsController, READ_LISTS } from './api/lists.controller';
import { EVENT_STORE, TransferEventsController } from './api/transfer-events.controller';
import type { EventStore } from './eventstore/port';
import type { ReadLists } from './projections/lists';
import { COMMAND_HANDLERS, WRITER } from './commands/handlers';
import type { Writer } from './commands/writer';
import type { Config } from './config';
import type { FraudStore } from './fraud/fraud-store';
import type { FraudReviews } from './fraud/fraud-reviews';
import type { Readiness } from './platform/readiness';
import type { CatchUp } from './projections/catch-up';
import { QUERY_HANDLERS, READ_MODELS } from './projections/query-handlers';
import type { ReadModels } from './projections/queries';

export interface LedgerParts {
  readonly config: Config;
  readonly readiness: Readiness;
  readonly writer: Writer;
  readonly readModels: ReadModels;
  readonly catchUp: CatchUp;
  readonly auditor: Auditor;
  readonly fraudStore: FraudStore;
  /** Risk, the review queue and resolutions (src/fraud/fraud-reviews.ts). */
  readonly fraudReviews: FraudReviews;
  /** The list and history reads (src/projections/lists.ts). */
  readonly readLists: ReadLists;
  /** The event store, for the routes that show recorded events (a transfer's stream). */
  readonly eventStore: EventStore;
  /** The per-key rate limit (src/api/auth/rate-limit.ts); its guard covers every controller. */
  readonly rateLimit?: DynamicModule;
}

/**
 * The Nest module of one process. The parts are built (and started) outside Nest, in app.ts, so
 * that the same objects serve tests, the CLI and the service; Nest wires HTTP and the buses.
 */
@Module({})
export class LedgerModule {
  static register(parts: LedgerParts): DynamicModule {
    const api = parts.config.LEDGER_ROLES.includes('api');
    return {
      module: LedgerModule,
      imports: [CqrsModule.forRoot(), ...(parts.rateLimit ? [parts.rateLimit] : [])],
      controllers: [
        HealthController,
        ...(api
          ? [
              AccountsController,
              TransfersController,
              ListsController,
              TransferEventsController,
              FraudController,
              AuditController,
              StatementController,
              PeriodsController,
            ]
          : []),
      ],
      providers: [
        { provide: CONFIG, useValue: parts.config },
        { provide: READINESS, useValue: parts.readiness },
        { provide: WRITER, useValue: parts.writer },
        { provide: READ_MODELS, useValue: parts.readModels },
        { provide: CATCH_UP, useValue: parts.catchUp },
        { provide: AUDITOR, useValue: parts.auditor },
        { provide: FRAUD_STORE, useValue: parts.fraudStore },
        { provide: FRAUD_REVIEWS, useValue: parts.fraudReviews },
        { provide: READ_LISTS, useValue: parts.readLists },
        { provide: EVENT_STORE, useValue: parts.eventStore },
        ...COMMAND_HANDLERS,
        ...PERIOD_COMMAND_HANDLERS,
        ...QUERY_HANDLERS,
        ...(parts.rateLimit ? [RATE_LIMIT_GUARD] : []),
      ],
    };
  }
}
