import {
  type AllStreamResolvedEvent,
  AppendConsistencyViolationError,
  type ResolvedEvent,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
  excludeSystemEvents,
} from '@kurrent/kurrentdb-client';
import { describe, expect, it } from 'vitest';
import { type EventToAppend, WrongExpectedRevisionError, expect as rev } from '../port';
import {
  CHAIN_EVENT_TYPE,
  SNAPSHOT_EVENT_TYPE,
  LEDGER_EVENT_TYPE_REGEX,
  LINK_EVENT_TYPE,
  META,
  conflictsOf,
  fromCurrentState,
  fromResolved,
  fromStreamState,
  isLedgerEventType,
  isStreamNotFound,
  ledgerEventsFilter,
  linkEventData,
  parseLinkData,
  streamRevisionOf,
  toEventData,
  toStreamState,
  wrongExpectedRevision,
} from './mapping';
import { encodePosition } from './positions';

const event: EventToAppend = {
  eventId: '6f1d3c2a-1b7e-4f7a-9d0e-2c4b5a6d7e8f',
  streamId: 'transfer-t-1',
  type: 'TransferPosted',
  data: { transferId: 't-1', amount: ((1n << 127n) - 1n).toString(), metadata: { note: 'Grüße 🏦' }, score: 0.8125 },
  metadata: { correlationId: 'corr-1', causationId: 'cause-1', commandHash: 'ab'.repeat(32), actor: undefined },
  alsoIn: ['account-a', 'account-b'],
};
const stored = { recordedAt: '2025-01-01T12:00:00.123Z', prevHash: '0'.repeat(64), hash: 'f'.repeat(64) };
const position = { commit: 5_000n, prepare: 4_321n };

/** What the client hands back for `data`, after the server has kept it: JSON through and through. */
function readBack(data: ReturnType<typeof toEventData>, extra: Record<string, unknown> = {}): AllStreamResolvedEvent {
  return {
    event: {
      streamId: event.streamId,
      id: data.id,
      revision: 0n,
      type: data.type,
      isJson: true,
      created: new Date(),
      data: JSON.parse(JSON.stringify(data.data)),
      metadata: { ...JSON.parse(JSON.stringify(data.metadata)), ...extra },
      position,
    },
  } as AllStreamResolvedEvent;
}

describe('our events ⇄ the client’s events', () => {
  it('an event goes out as JSON with flat string metadata, and comes back the same, with position and hashes', () => {
    const out = toEventData(event, stored);
    expect(out).toMatchObject({
      id: event.eventId,
      contentType: 'application/json',
      type: 'TransferPosted',
      data: event.data,
    });
    expect(out.metadata).toEqual({
      correlationId: 'corr-1',
      causationId: 'cause-1',
      commandHash: 'ab'.repeat(32),
      [META.recordedAt]: stored.recordedAt,
      [META.prevHash]: stored.prevHash,
      [META.hash]: stored.hash,
    });
    for (const value of Object.values(out.metadata as object)) expect(typeof value).toBe('string');

    // The server adds properties of its own (`$` keys); they are not the event's metadata.
    const back = fromResolved(readBack(out, { '$schema.name': 'TransferPosted', $timestamp: 'x' }));
    expect(back).toEqual({
      position: encodePosition(position),
      eventId: event.eventId,
      streamId: event.streamId,
      revision: 0n,
      type: 'TransferPosted',
      data: event.data,
      metadata: { correlationId: 'corr-1', causationId: 'cause-1', commandHash: 'ab'.repeat(32) },
      ...stored,
    });
  });

  it('refuses metadata keys the store keeps for itself', () => {
    for (const key of ['ledger.recordedAt', 'ledger.anything', '$timestamp']) {
      expect(() => toEventData({ ...event, metadata: { ...event.metadata, [key]: 'x' } }, stored)).toThrow(/reserved/);
    }
  });

  it('a linked event read from an account stream is the event itself, with its own stream, revision and position', () => {
    const own = readBack(toEventData(event, stored)).event!;
    const link = {
      ...own,
      streamId: 'account-a',
      id: 'link-id',
      revision: 7n,
      type: LINK_EVENT_TYPE,
      isJson: false,
      data: new Uint8Array(),
      metadata: undefined,
    };
    const resolved = { event: own, link } as unknown as ResolvedEvent;
    expect(fromResolved(resolved)).toMatchObject({ streamId: 'transfer-t-1', revision: 0n, eventId: event.eventId });
    expect(streamRevisionOf(resolved)).toBe(7n);
    expect(streamRevisionOf({ event: own } as ResolvedEvent)).toBe(0n);
    expect(() => fromResolved({ link } as unknown as ResolvedEvent)).toThrow(/does not exist/);
  });

  it('refuses records the ledger did not write, or that lack their position', () => {
    const good = readBack(toEventData(event, stored));
    expect(() => fromResolved({ event: { ...good.event!, position: undefined } } as unknown as ResolvedEvent)).toThrow(
      /position/,
    );
    expect(() =>
      fromResolved({ event: { ...good.event!, isJson: false, data: new Uint8Array() } } as unknown as ResolvedEvent),
    ).toThrow(/JSON/);
    expect(() => fromResolved({ event: { ...good.event!, metadata: undefined } } as unknown as ResolvedEvent)).toThrow(
      /metadata/,
    );
    const { [META.hash]: _, ...noHash } = good.event!.metadata as Record<string, string>;
    expect(() => fromResolved({ event: { ...good.event!, metadata: noHash } } as unknown as ResolvedEvent)).toThrow(
      META.hash,
    );
  });

  it('links name their event as <revision>@<stream>, and parse back', () => {
    const link = linkEventData('9a1d3c2a-1b7e-4f7a-9d0e-2c4b5a6d7e8f', { streamId: 'transfer-t@1', revision: 12n });
    expect(link).toMatchObject({ type: '$>', contentType: 'application/octet-stream' });
    expect(Buffer.from(link.data).toString()).toBe('12@transfer-t@1');
    expect(parseLinkData(link.data)).toEqual({ streamId: 'transfer-t@1', revision: 12n });
    expect(() => parseLinkData(Buffer.from('x@y'))).toThrow(/not a link/);
  });
});

describe('expected revisions ⇄ stream states', () => {
  it('map both ways', () => {
    const cases = [
      [rev.any, 'any'],
      [rev.noStream, 'no_stream'],
      [rev.exists, 'stream_exists'],
      [rev.at(0n), 0n],
      [rev.at(41n), 41n],
      [rev.at((1n << 63n) - 1n), (1n << 63n) - 1n],
    ] as const;
    for (const [ours, theirs] of cases) {
      expect(toStreamState(ours)).toBe(theirs);
      expect(fromStreamState(theirs)).toEqual(ours);
    }
    expect(toStreamState(rev.revision(-1n))).toBe('no_stream');
  });

  it('a current state of no_stream is revision -1', () => {
    expect(fromCurrentState('no_stream')).toBe(-1n);
    expect(fromCurrentState(3n)).toBe(3n);
  });
});

describe('the client’s errors ⇄ ours', () => {
  const violation = (checkIndex: number, stream: string, expectedState: string, actualState: string) => ({
    checkIndex,
    streamState: { stream, expectedState, actualState },
  });

  it('every failed consistency check of appendRecords is a conflict, with the actual revision', () => {
    const error = new AppendConsistencyViolationError(undefined as never, {
      violationsList: [
        violation(0, 'account-a', '3', '4'),
        violation(2, 'transfer-t', '-1', '0'),
        violation(3, 'account-c', '-4', '-1'),
      ],
    });
    expect(conflictsOf(error)).toEqual([
      { streamId: 'account-a', actual: 4n },
      { streamId: 'transfer-t', actual: 0n },
      { streamId: 'account-c', actual: -1n },
    ]);
    const ours = wrongExpectedRevision(
      conflictsOf(error)!,
      new Map([
        ['account-a', rev.at(3n)],
        ['transfer-t', rev.noStream],
        ['account-c', rev.exists],
      ]),
    );
    expect(ours).toBeInstanceOf(WrongExpectedRevisionError);
    expect(ours.conflicts).toEqual([
      { streamId: 'account-a', expected: rev.at(3n), actual: 4n },
      { streamId: 'transfer-t', expected: rev.noStream, actual: 0n },
      { streamId: 'account-c', expected: rev.exists, actual: -1n },
    ]);
    expect(ours.message).toContain('account-a expected 3, is at 4');
  });

  it('the single-stream wrong-expected-version error is a conflict too', () => {
    const error = new WrongExpectedVersionError(undefined, { streamName: 'account-a', expected: 1n, current: 2n });
    expect(conflictsOf(error)).toEqual([{ streamId: 'account-a', actual: 2n }]);
    const missing = new WrongExpectedVersionError(undefined, {
      streamName: 'account-b',
      expected: 'stream_exists',
      current: 'no_stream',
    });
    expect(conflictsOf(missing)).toEqual([{ streamId: 'account-b', actual: -1n }]);
  });

  it('a conflict on a stream the request did not name is a bug, not a conflict', () => {
    expect(() => wrongExpectedRevision([{ streamId: 'x', actual: 1n }], new Map())).toThrow(/did not name/);
  });

  it('other errors are not conflicts; stream-not-found is an absent stream', () => {
    expect(conflictsOf(new UnavailableError(undefined, 'down'))).toBeNull();
    expect(conflictsOf(new Error('x'))).toBeNull();
    expect(isStreamNotFound(new StreamNotFoundError(undefined, 'account-z'))).toBe(true);
    expect(isStreamNotFound(new UnavailableError(undefined, 'down'))).toBe(false);
  });
});

describe('$all as the ledger reads it', () => {
  it('leaves out system events, links and the chain records, and nothing else', () => {
    for (const type of ['$>', '$metadata', '$epoch-information', '$@', CHAIN_EVENT_TYPE, SNAPSHOT_EVENT_TYPE])
      expect(isLedgerEventType(type)).toBe(false);
    for (const type of [
      'AccountOpened',
      'TransferPosted',
      'FraudScored',
      'LedgerChainHeadX',
      'TransferPosted.v2',
      'x$',
    ]) {
      expect(isLedgerEventType(type)).toBe(true);
    }
    const filter = ledgerEventsFilter();
    expect(filter).toMatchObject({ filterOn: 'eventType' });
    expect((filter as { regex: string }).regex).toBe(LEDGER_EVENT_TYPE_REGEX);
    // Everything the client's own system-event filter leaves out, ours leaves out too.
    const system = new RegExp(excludeSystemEvents().regex);
    for (const type of ['$>', '$metadata', 'AccountOpened'])
      if (!system.test(type)) expect(isLedgerEventType(type)).toBe(false);
  });
});
