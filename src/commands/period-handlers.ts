import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { commandHash } from './command-hash';
import { type TransferInput, WRITER, transferCommand, withoutUndefined } from './handlers';
import type { AdjustmentOutcome, ClosePeriodOutcome, CommandContext } from './write-commands';
import type { Writer } from './writer';

/** Close the books through `through` (docs/contract.md, "Closed periods"). */
export class ClosePeriodCommand {
  constructor(
    readonly input: { through: string; reason: string },
    readonly context: CommandContext,
  ) {}
}

/** A transfer into a closed period, recorded pending until another key approves it. */
export class RequestAdjustmentCommand {
  constructor(
    readonly input: TransferInput & { effectiveAt: string },
    readonly context: CommandContext,
  ) {}
}

export class ApproveAdjustmentCommand {
  constructor(
    readonly adjustmentId: string,
    readonly context: CommandContext,
  ) {}
}

@CommandHandler(ClosePeriodCommand)
export class ClosePeriodHandler implements ICommandHandler<ClosePeriodCommand, ClosePeriodOutcome> {
  constructor(@Inject(WRITER) private readonly writer: Writer) {}

  execute({ input, context }: ClosePeriodCommand): Promise<ClosePeriodOutcome> {
    return this.writer.submit({
      kind: 'close-period',
      command: { type: 'ClosePeriod', through: input.through, reason: input.reason },
      context,
    });
  }
}

@CommandHandler(RequestAdjustmentCommand)
export class RequestAdjustmentHandler implements ICommandHandler<RequestAdjustmentCommand, AdjustmentOutcome> {
  constructor(@Inject(WRITER) private readonly writer: Writer) {}

  execute({ input, context }: RequestAdjustmentCommand): Promise<AdjustmentOutcome> {
    const { pending: _notAHold, expiresAt: _noExpiry, ...fields } = input;
    const { pending: _none, expiresAt: _neither, ...transfer } = transferCommand(fields);
    return this.writer.submit({
      kind: 'request-adjustment',
      command: { type: 'RequestAdjustment', transfer: { ...transfer, effectiveAt: input.effectiveAt } },
      commandHash: commandHash('RequestAdjustment', withoutUndefined(fields)),
      context,
    });
  }
}

@CommandHandler(ApproveAdjustmentCommand)
export class ApproveAdjustmentHandler implements ICommandHandler<ApproveAdjustmentCommand, AdjustmentOutcome> {
  constructor(@Inject(WRITER) private readonly writer: Writer) {}

  execute({ adjustmentId, context }: ApproveAdjustmentCommand): Promise<AdjustmentOutcome> {
    return this.writer.submit({
      kind: 'approve-adjustment',
      command: { type: 'ApproveAdjustment', adjustmentId },
      context,
    });
  }
}

export const PERIOD_COMMAND_HANDLERS = [ClosePeriodHandler, RequestAdjustmentHandler, ApproveAdjustmentHandler];
