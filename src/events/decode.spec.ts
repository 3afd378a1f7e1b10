import { describe, expect, it } from 'vitest';
import { EVENT_SAMPLES } from '../../test/support/event-samples';
import { UndecodableEventError, decodeEvent, decodeEventOf } from './decode';
import { PUBLISHED_EVENT_TYPES } from './event-schemas';

const recorded = (type: string, data: Record<string, unknown>) => ({
  position: 42n,
  streamId: 'transfer-t-1',
  type,
  data,
});

describe('decodeEvent: a recorded event to a domain event', () => {
  it.each(PUBLISHED_EVENT_TYPES)('decodes a recorded %s to the domain event it holds', (type) => {
    const sample = EVENT_SAMPLES[type];
    const decoded = decodeEvent(recorded(type, JSON.parse(JSON.stringify(sample.data))));
    expect(decoded).toEqual(sample);
  });

  it('keeps the recorded data as it is (no copy, fields added later included)', () => {
    const data = { ...EVENT_SAMPLES.TransferPosted.data, addedLater: 'x' };
    expect(decodeEvent(recorded('TransferPosted', data)).data).toBe(data);
  });

  it('refuses an event type the catalogue does not know, by name', () => {
    const error = catchError(() => decodeEvent(recorded('TransferTeleported', {})));
    expect(error).toBeInstanceOf(UndecodableEventError);
    expect(error.message).toBe(
      'recorded event TransferTeleported at position 42 in transfer-t-1 does not decode: no event type of that name in the catalogue (src/events/event-schemas.ts)',
    );
  });

  it('refuses data that does not fit its type, saying which field and why', () => {
    const { amount: _, ...noAmount } = EVENT_SAMPLES.TransferPosted.data;
    expect(() => decodeEvent(recorded('TransferPosted', noAmount))).toThrow(
      /TransferPosted at position 42 in transfer-t-1 does not decode: amount: Invalid input: expected string, received undefined/,
    );
    expect(() =>
      decodeEvent(recorded('TransferPosted', { ...EVENT_SAMPLES.TransferPosted.data, amount: 1234 })),
    ).toThrow(/amount: Invalid input: expected string, received number/);
    expect(() =>
      decodeEvent(recorded('AccountOpened', { ...EVENT_SAMPLES.AccountOpened.data, normalSide: 'sideways' })),
    ).toThrow(/normalSide: Invalid option/);
    // The published formats hold too, not only the types: an amount of minor units is a decimal string.
    expect(() =>
      decodeEvent(recorded('TransferPosted', { ...EVENT_SAMPLES.TransferPosted.data, amount: '10.50' })),
    ).toThrow(/amount: Invalid string/);
  });

  it('decodeEventOf: the event must be one of the types the caller expects there', () => {
    const opened = recorded('AccountOpened', EVENT_SAMPLES.AccountOpened.data);
    expect(decodeEventOf(opened, 'AccountOpened')).toEqual(EVENT_SAMPLES.AccountOpened);
    expect(() => decodeEventOf(opened, 'TransferPosted', 'TransferPending')).toThrow(
      /AccountOpened at position 42 in transfer-t-1 does not decode: expected TransferPosted or TransferPending here/,
    );
  });
});

function catchError(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error('expected an error');
}
