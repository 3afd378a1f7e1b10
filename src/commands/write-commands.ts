import type { Account, ChangeAccountStatus, OpenAccount } from '../domain/account';
import type { LedgerError } from '../domain/errors';
import type { HoldCommand } from '../domain/hold';
import type { ReverseTransfer } from '../domain/reversal';
import type { FraudCommand, FraudEvent } from '../domain/fraud';
import type { Adjustment, ApproveAdjustment, ClosePeriod, RequestAdjustment } from '../domain/closed-period';
import type { PostTransfer } from '../domain/transfer';
import type { TransferState } from '../domain/transfer-state';

/** Who asked, for the events' metadata (correlation, causation, the API key's id, the trace). */
export interface CommandContext {
  readonly correlationId: string;
  readonly causationId: string;
  readonly actor?: string;
  readonly traceparent?: string;
}

/** A transfer as a command left it: what the contract's Transfer is made from. */
export interface TransferRecord {
  readonly state: TransferState;
  /** When the transfer's first event was recorded. */
  readonly recordedAt: string;
  /** Position of the event this answer is about (the transfer's first, or the post, void or reversal). */
  readonly position: bigint;
}

export interface AccountSnapshot {
  readonly account: Account;
  readonly position: bigint;
}

export type OpenAccountOutcome =
  | { readonly outcome: 'created' | 'duplicate'; readonly account: Account; readonly position: bigint }
  | LedgerError;

export type StatusChangeOutcome = AccountSnapshot | LedgerError;

export type TransferOutcome =
  | { readonly outcome: 'created' | 'duplicate'; readonly transfer: TransferRecord }
  | { readonly outcome: 'failed'; readonly error: LedgerError };

export interface TransfersOutcome {
  readonly items: readonly TransferOutcome[];
  /** Highest position this request's events (or the duplicates it found) stand at. */
  readonly position: bigint;
}

/** A post, void or expiry of a hold: the hold as that command left it. */
export type HoldOutcome =
  | { readonly outcome: 'applied' | 'duplicate'; readonly transfer: TransferRecord }
  /** An expiry with nothing to do: the hold was settled first, or is not due by the writer's clock. */
  | { readonly outcome: 'nothing' }
  | LedgerError;

/** A reversal: the new transfer it posted. */
export type ReverseOutcome =
  | { readonly outcome: 'created' | 'duplicate'; readonly transfer: TransferRecord }
  | LedgerError;

/** A fraud command's answer: its stream's one event, new or found (ADR 0023), or a refusal. */
export type FraudCommandOutcome =
  | {
      readonly outcome: 'created' | 'duplicate';
      readonly event: FraudEvent;
      readonly eventId: string;
      /** Who recorded the event (its metadata's actor): for a repeat, the first caller. */
      readonly actor: string | undefined;
      readonly recordedAt: string;
      readonly position: bigint;
    }
  | { readonly outcome: 'failed'; readonly error: LedgerError };

export interface FraudOutcome {
  readonly items: readonly FraudCommandOutcome[];
  readonly position: bigint;
}

/** A close of the books (docs/contract.md, "Closed periods"): the close that stands after it. */
export type ClosePeriodOutcome =
  | {
      readonly outcome: 'created' | 'duplicate';
      readonly through: string;
      readonly reason: string;
      readonly closedBy: string;
      readonly closedAt: string;
      readonly position: bigint;
    }
  | LedgerError;

/** A request or approval of a prior-period adjustment: the adjustment as it stands after it. */
export type AdjustmentOutcome =
  | {
      readonly outcome: 'created' | 'approved' | 'duplicate';
      readonly adjustment: Adjustment;
      /** Of the adjustment's last event (for an approval: its TransferPosted's). */
      readonly position: bigint;
    }
  | LedgerError;

/** What the writer takes; each kind resolves to its outcome. */
export type WriteJob =
  | {
      readonly kind: 'open';
      readonly command: OpenAccount;
      readonly commandHash: string;
      readonly context: CommandContext;
    }
  | { readonly kind: 'status'; readonly command: ChangeAccountStatus; readonly context: CommandContext }
  | {
      readonly kind: 'transfers';
      readonly commands: ReadonlyArray<{ readonly command: PostTransfer; readonly commandHash: string }>;
      /** All post or none does. */
      readonly atomic: boolean;
      readonly context: CommandContext;
    }
  | {
      readonly kind: 'hold';
      readonly command: HoldCommand;
      /** Absent for an expiry: it has no client id, and the hold's stream revision makes it happen once. */
      readonly commandHash?: string;
      readonly context: CommandContext;
    }
  | {
      readonly kind: 'reverse';
      readonly command: ReverseTransfer;
      readonly commandHash: string;
      readonly context: CommandContext;
    }
  | {
      /** Fraud scores and review resolutions (src/commands/fraud-decisions.ts), each with its own context. */
      readonly kind: 'fraud';
      readonly commands: ReadonlyArray<{ readonly command: FraudCommand; readonly context: CommandContext }>;
      readonly context: CommandContext;
    }
  /** Closed periods and prior-period adjustments (src/commands/period-decisions.ts). */
  | { readonly kind: 'close-period'; readonly command: ClosePeriod; readonly context: CommandContext }
  | {
      readonly kind: 'request-adjustment';
      readonly command: RequestAdjustment;
      readonly commandHash: string;
      readonly context: CommandContext;
    }
  | { readonly kind: 'approve-adjustment'; readonly command: ApproveAdjustment; readonly context: CommandContext };

export type WriteOutcome<J extends WriteJob> = J extends { kind: 'open' }
  ? OpenAccountOutcome
  : J extends { kind: 'status' }
    ? StatusChangeOutcome
    : J extends { kind: 'hold' }
      ? HoldOutcome
      : J extends { kind: 'reverse' }
        ? ReverseOutcome
        : J extends { kind: 'fraud' }
          ? FraudOutcome
          : J extends { kind: 'close-period' }
            ? ClosePeriodOutcome
            : J extends { kind: 'request-adjustment' | 'approve-adjustment' }
              ? AdjustmentOutcome
              : TransfersOutcome;

/** The writer is saturated: the client should retry later (503). */
export class WriterOverloadedError extends Error {
  constructor(readonly queued: number) {
    super(`the write queue is full (${queued} commands waiting); retry shortly`);
    this.name = 'WriterOverloadedError';
  }
}

/** The writer has stopped (the process is shutting down): the client should retry, elsewhere or later (503). */
export class WriterStoppedError extends Error {
  constructor() {
    super('this process is shutting down and takes no more commands; retry shortly');
    this.name = 'WriterStoppedError';
  }
}
