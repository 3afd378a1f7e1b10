import { isLedgerError } from '../domain/errors';
import type { WriteJob } from './write-commands';

export interface CommandOutcomeLabel {
  /** The command's name: OpenAccount, FreezeAccount, UnfreezeAccount, CloseAccount, PostTransfer, PostPendingTransfer, VoidPendingTransfer, ExpirePendingTransfer, ReverseTransfer, ClosePeriod, RequestAdjustment, ApproveAdjustment. */
  readonly command: string;
  /** created, duplicate, applied, approved, or the refusal's slug (insufficient-funds, …). */
  readonly outcome: string;
}

/** What each command of a settled job ended in (a transfers job counts each transfer), for metrics. */
export function commandOutcomes(job: WriteJob, outcome: unknown): CommandOutcomeLabel[] {
  switch (job.kind) {
    case 'open':
      return [
        {
          command: 'OpenAccount',
          outcome: isLedgerError(outcome) ? outcome.slug : (outcome as { outcome: string }).outcome,
        },
      ];
    case 'status':
      return [{ command: job.command.type, outcome: isLedgerError(outcome) ? outcome.slug : 'applied' }];
    case 'transfers': {
      const items = (outcome as { items: ReadonlyArray<{ outcome: string; error?: { slug: string } }> }).items;
      return items.map((item) => ({
        command: 'PostTransfer',
        outcome: item.outcome === 'failed' ? item.error!.slug : item.outcome,
      }));
    }
    case 'hold':
    case 'reverse':
    case 'close-period':
    case 'request-adjustment':
    case 'approve-adjustment':
      return [
        {
          command: job.command.type,
          outcome: isLedgerError(outcome) ? outcome.slug : (outcome as { outcome: string }).outcome,
        },
      ];
    case 'fraud': {
      const items = (outcome as { items: ReadonlyArray<{ outcome: string; error?: { slug: string } }> }).items;
      return items.map((item, i) => ({
        command: job.commands[i]!.command.type,
        outcome: item.outcome === 'failed' ? item.error!.slug : item.outcome,
      }));
    }
  }
}

/** The command names of a job that did not settle (refused as overloaded, or failed on an exception). */
export function commandNames(job: WriteJob): string[] {
  switch (job.kind) {
    case 'open':
      return ['OpenAccount'];
    case 'status':
      return [job.command.type];
    case 'transfers':
      return job.commands.map(() => 'PostTransfer');
    case 'hold':
    case 'reverse':
    case 'close-period':
    case 'request-adjustment':
    case 'approve-adjustment':
      return [job.command.type];
    case 'fraud':
      return job.commands.map(({ command }) => command.type);
  }
}
