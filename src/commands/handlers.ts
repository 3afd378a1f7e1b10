import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { ChangeAccountStatus, OpenAccount } from '../domain/account';
import { parseAmount } from '../domain/money';
import type { PostTransfer } from '../domain/transfer';
import { commandHash } from './command-hash';
import type { CommandContext, OpenAccountOutcome, StatusChangeOutcome, TransfersOutcome } from './write-commands';
import type { Writer } from './writer';

export const WRITER = Symbol('Writer');

export interface OpenAccountInput {
  id: string;
  currency: string;
  normalSide: 'debit' | 'credit';
  flags: { debitsMustNotExceedCredits: boolean; creditsMustNotExceedDebits: boolean };
  code?: string | undefined;
  metadata: Record<string, string>;
}

export interface TransferInput {
  id: string;
  debitAccountId: string;
  creditAccountId: string;
  amount: string;
  currency: string;
  code?: string | undefined;
  reference?: string | undefined;
  metadata: Record<string, string>;
  effectiveAt?: string | undefined;
}

export class OpenAccountCommand {
  constructor(
    readonly input: OpenAccountInput,
    readonly context: CommandContext,
  ) {}
}

export class ChangeAccountStatusCommand {
  constructor(
    readonly type: ChangeAccountStatus['type'],
    readonly accountId: string,
    readonly reason: string,
    readonly context: CommandContext,
  ) {}
}

export class PostTransfersCommand {
  constructor(
    readonly transfers: readonly TransferInput[],
    readonly atomic: boolean,
    readonly context: CommandContext,
  ) {}
}

const withoutUndefined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

@CommandHandler(OpenAccountCommand)
export class OpenAccountHandler implements ICommandHandler<OpenAccountCommand, OpenAccountOutcome> {
  constructor(@Inject(WRITER) private readonly writer: Writer) {}

  execute({ input, context }: OpenAccountCommand): Promise<OpenAccountOutcome> {
    const body = withoutUndefined(input);
    const command: OpenAccount = {
      type: 'OpenAccount',
      accountId: input.id,
      currency: input.currency,
      normalSide: input.normalSide,
      flags: input.flags,
      ...(input.code !== undefined ? { code: input.code } : {}),
      metadata: input.metadata,
    };
    return this.writer.submit({ kind: 'open', command, commandHash: commandHash('OpenAccount', body), context });
  }
}

@CommandHandler(ChangeAccountStatusCommand)
export class ChangeAccountStatusHandler implements ICommandHandler<ChangeAccountStatusCommand, StatusChangeOutcome> {
  constructor(@Inject(WRITER) private readonly writer: Writer) {}

  execute({ type, accountId, reason, context }: ChangeAccountStatusCommand): Promise<StatusChangeOutcome> {
    return this.writer.submit({ kind: 'status', command: { type, accountId, reason }, context });
  }
}

@CommandHandler(PostTransfersCommand)
export class PostTransfersHandler implements ICommandHandler<PostTransfersCommand, TransfersOutcome> {
  constructor(@Inject(WRITER) private readonly writer: Writer) {}

  execute({ transfers, atomic, context }: PostTransfersCommand): Promise<TransfersOutcome> {
    const commands = transfers.map((input) => {
      const amount = parseAmount(input.amount);
      // The API validated it already; a bad amount here is a bug, not a user error.
      if (amount === undefined) throw new Error(`unvalidated amount ${input.amount} reached the command side`);
      const command: PostTransfer = {
        type: 'PostTransfer',
        transferId: input.id,
        debitAccountId: input.debitAccountId,
        creditAccountId: input.creditAccountId,
        amount,
        currency: input.currency,
        ...(input.code !== undefined ? { code: input.code } : {}),
        ...(input.reference !== undefined ? { reference: input.reference } : {}),
        metadata: input.metadata,
        ...(input.effectiveAt !== undefined ? { effectiveAt: input.effectiveAt } : {}),
      };
      return { command, commandHash: commandHash('PostTransfer', withoutUndefined(input)) };
    });
    return this.writer.submit({ kind: 'transfers', commands, atomic, context });
  }
}

export const COMMAND_HANDLERS = [OpenAccountHandler, ChangeAccountStatusHandler, PostTransfersHandler];
