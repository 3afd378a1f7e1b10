import type { CommandContext, WriteJob } from '../../src/commands/write-commands';

/**
 * Write jobs for tests that drive a `Writer` directly (two writers on one store stand for two
 * processes): a credit-normal USD account, and one transfer in a non-atomic batch. The command
 * hash stands for the body; pass one when a test needs repeats or conflicts to tell bodies apart.
 */
export function openJob(
  accountId: string,
  context: CommandContext,
  options: { guarded?: boolean; commandHash?: string } = {},
): Extract<WriteJob, { kind: 'open' }> {
  return {
    kind: 'open',
    command: {
      type: 'OpenAccount',
      accountId,
      currency: 'USD',
      normalSide: 'credit',
      flags: { debitsMustNotExceedCredits: options.guarded ?? false, creditsMustNotExceedDebits: false },
      metadata: {},
    },
    commandHash: options.commandHash ?? `open-${accountId}`,
    context,
  };
}

export function transferJob(
  transfer: { id: string; debit: string; credit: string; amount: bigint; pending?: boolean; expiresAt?: string },
  context: CommandContext,
  options: { commandHash?: string } = {},
): Extract<WriteJob, { kind: 'transfers' }> {
  return {
    kind: 'transfers',
    atomic: false,
    commands: [
      {
        command: {
          type: 'PostTransfer',
          transferId: transfer.id,
          debitAccountId: transfer.debit,
          creditAccountId: transfer.credit,
          amount: transfer.amount,
          currency: 'USD',
          metadata: {},
          ...(transfer.pending ? { pending: true } : {}),
          ...(transfer.expiresAt !== undefined ? { expiresAt: transfer.expiresAt } : {}),
        },
        commandHash: options.commandHash ?? `transfer-${transfer.id}`,
      },
    ],
    context,
  };
}
