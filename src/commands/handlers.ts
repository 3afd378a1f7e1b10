import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { ChangeAccountStatus, OpenAccount } from '../domain/account';
import { parseAmount } from '../domain/money';
import type { PostPendingTransfer, VoidPendingTransfer } from '../domain/hold';
import type { ReverseTransfer } from '../domain/reversal';
import type { PostTransfer } from '../domain/transfer';
import { commandHash } from './command-hash';
import type {
  CommandContext,
  HoldOutcome,
  OpenAccountOutcome,
  ReverseOutcome,
  StatusChangeOutcome,
  TransfersOutcome,
} from './write-commands';
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
  pending?: boolean | undefined;
  expiresAt?: string | undefined;
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

export const withoutUndefined = <T extends object>(value: T): T =>
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

/** The domain's command for a transfer the API validated (a plain one, a hold, or an adjustment's). */
export function transferCommand(input: TransferInput): PostTransfer {
  const amount = parseAmount(input.amount);
  // The API validated it already; a bad amount here is a bug, not a user error.
  if (amount === undefined) throw new Error(`unvalidated amount ${input.amount} reached the command side`);
  return {
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
    ...(input.pending ? { pending: true } : {}),
    ...(input.expiresAt !== undefined ? { expiresAt: input.expiresAt } : {}),
  };
}

@CommandHandler(PostTransfersCommand)
export class PostTransfersHandler implements ICommandHandler<PostTransfersCommand, TransfersOutcome> {
  constructor(@Inject(WRITER) private readonly writer: Writer) {}

  execute({ transfers, atomic, context }: PostTransfersCommand): Promise<TransfersOutcome> {
    const commands = transfers.map((input) => {
      const command = transferCommand(input);
      // `pending: false` is the same command as no `pending`: it must not change the fingerprint.
      // No copy otherwise: the canonical JSON leaves undefined members out (withoutUndefined's job).
      const body = input.pending === false ? { ...input, pending: undefined } : input;
      return { command, commandHash: commandHash('PostTransfer', body) };
    });
    return this.writer.submit({ kind: 'transfers', commands, atomic, context });
  }
}

export interface PostPendingInput {
  id: string;
  amount?: string | undefined;
  final: boolean;
  effectiveAt?: string | undefined;
}

/** Post part or all of hold `transferId` (docs/contract.md, "Holds"). */
export class PostPendingTransferCommand {
  constructor(
    readonly transferId: string,
    readonly input: PostPendingInput,
    readonly context: CommandContext,
  ) {}
}

export class VoidPendingTransferCommand {
  constructor(
    readonly transferId: string,
    readonly input: { id: string; reason?: string | undefined },
    readonly context: CommandContext,
  ) {}
}

/** Release an expired hold: proposed by the expirer of any process (ADR 0019). */
export class ExpirePendingTransferCommand {
  constructor(
    readonly transferId: string,
    readonly context: CommandContext,
  ) {}
}

export interface ReverseInput {
  id: string;
  amount?: string | undefined;
  reason: string;
  effectiveAt?: string | undefined;
}

export class ReverseTransferCommand {
  constructor(
    readonly transferId: string,
    readonly input: ReverseInput,
    readonly context: CommandContext,
  ) {}
}

const amountOf = (text: string | undefined): bigint | undefined => {
  if (text === undefined) return undefined;
  const amount = parseAmount(text);
  if (amount === undefined) throw new Error(`unvalidated amount ${text} reached the command side`);
  return amount;
};

@CommandHandler(PostPendingTransferCommand)
export class PostPendingTransferHandler implements ICommandHandler<PostPendingTransferCommand, HoldOutcome> {
  constructor(@Inject(WRITER) private readonly writer: Writer) {}

  execute({ transferId, input, context }: PostPendingTransferCommand): Promise<HoldOutcome> {
    const amount = amountOf(input.amount);
    const command: PostPendingTransfer = {
      type: 'PostPendingTransfer',
      postId: input.id,
      transferId,
      ...(amount !== undefined ? { amount } : {}),
      final: input.final,
      ...(input.effectiveAt !== undefined ? { effectiveAt: input.effectiveAt } : {}),
    };
    // The hold's id is part of the command: the same post id on another hold is a conflict.
    const hash = commandHash('PostPendingTransfer', withoutUndefined({ ...input, transferId }));
    return this.writer.submit({ kind: 'hold', command, commandHash: hash, context });
  }
}

@CommandHandler(VoidPendingTransferCommand)
export class VoidPendingTransferHandler implements ICommandHandler<VoidPendingTransferCommand, HoldOutcome> {
  constructor(@Inject(WRITER) private readonly writer: Writer) {}

  execute({ transferId, input, context }: VoidPendingTransferCommand): Promise<HoldOutcome> {
    const command: VoidPendingTransfer = {
      type: 'VoidPendingTransfer',
      voidId: input.id,
      transferId,
      ...(input.reason !== undefined ? { reason: input.reason } : {}),
    };
    const hash = commandHash('VoidPendingTransfer', withoutUndefined({ ...input, transferId }));
    return this.writer.submit({ kind: 'hold', command, commandHash: hash, context });
  }
}

@CommandHandler(ExpirePendingTransferCommand)
export class ExpirePendingTransferHandler implements ICommandHandler<ExpirePendingTransferCommand, HoldOutcome> {
  constructor(@Inject(WRITER) private readonly writer: Writer) {}

  execute({ transferId, context }: ExpirePendingTransferCommand): Promise<HoldOutcome> {
    return this.writer.submit({ kind: 'hold', command: { type: 'ExpirePendingTransfer', transferId }, context });
  }
}

@CommandHandler(ReverseTransferCommand)
export class ReverseTransferHandler implements ICommandHandler<ReverseTransferCommand, ReverseOutcome> {
  constructor(@Inject(WRITER) private readonly writer: Writer) {}

  execute({ transferId, input, context }: ReverseTransferCommand): Promise<ReverseOutcome> {
    const amount = amountOf(input.amount);
    const command: ReverseTransfer = {
      type: 'ReverseTransfer',
      reversalId: input.id,
      transferId,
      ...(amount !== undefined ? { amount } : {}),
      reason: input.reason,
      ...(input.effectiveAt !== undefined ? { effectiveAt: input.effectiveAt } : {}),
    };
    const hash = commandHash('ReverseTransfer', withoutUndefined({ ...input, transferId }));
    return this.writer.submit({ kind: 'reverse', command, commandHash: hash, context });
  }
}

export const COMMAND_HANDLERS = [
  OpenAccountHandler,
  ChangeAccountStatusHandler,
  PostTransfersHandler,
  PostPendingTransferHandler,
  VoidPendingTransferHandler,
  ExpirePendingTransferHandler,
  ReverseTransferHandler,
];
