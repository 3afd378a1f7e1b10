import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { schemaFiles } from '../../src/cli/asyncapi';
import { asyncApiDocument } from '../../src/messaging/asyncapi';
import { PUBLISHED_EVENT_TYPES } from '../../src/events/event-schemas';
import { LEDGER_EVENT_TYPES } from '../../src/domain/events';
import { PERIOD_EVENT_TYPES } from '../../src/domain/closed-period';

const root = path.resolve(__dirname, '../..');

/** Follows a local JSON pointer ($ref) in the document. */
function resolve(document: unknown, ref: string): any {
  expect(ref.startsWith('#/')).toBe(true);
  return ref
    .slice(2)
    .split('/')
    .reduce((node: any, key) => {
      expect(node, ref).toHaveProperty([key]);
      return node[key];
    }, document);
}

describe('published event schemas and the AsyncAPI document', () => {
  it('the committed docs/asyncapi.json and docs/event-schemas/*.json are what `npm run asyncapi` generates', () => {
    for (const [file, text] of schemaFiles()) {
      expect(readFileSync(path.join(root, file), 'utf8'), `${file} is stale: run npm run asyncapi`).toBe(text);
    }
  });

  it('is AsyncAPI 3.0 with one channel per event type on ledger.<aggregate>.<EventType>, each resolvable', () => {
    const document = asyncApiDocument('1.2.3');
    expect(document.asyncapi).toBe('3.0.0');
    expect(document.info.version).toBe('1.2.3');
    expect(new Set(PUBLISHED_EVENT_TYPES)).toEqual(
      new Set([...LEDGER_EVENT_TYPES, 'FraudScored', 'FraudReviewResolved', ...PERIOD_EVENT_TYPES]),
    );
    const addresses: Record<string, string> = {
      AccountOpened: 'ledger.account.AccountOpened',
      AccountFrozen: 'ledger.account.AccountFrozen',
      AccountUnfrozen: 'ledger.account.AccountUnfrozen',
      AccountClosed: 'ledger.account.AccountClosed',
      TransferPosted: 'ledger.transfer.TransferPosted',
      TransferPending: 'ledger.transfer.TransferPending',
      PendingTransferPosted: 'ledger.transfer.PendingTransferPosted',
      PendingTransferVoided: 'ledger.transfer.PendingTransferVoided',
      PendingTransferExpired: 'ledger.transfer.PendingTransferExpired',
      TransferReversed: 'ledger.transfer.TransferReversed',
      FraudScored: 'ledger.fraud.FraudScored',
      FraudReviewResolved: 'ledger.fraud.FraudReviewResolved',
      PeriodClosed: 'ledger.period.PeriodClosed',
      AdjustmentRequested: 'ledger.adjustment.AdjustmentRequested',
      AdjustmentApproved: 'ledger.adjustment.AdjustmentApproved',
    };
    expect(Object.keys(document.channels).sort()).toEqual(Object.keys(addresses).sort());
    for (const [type, address] of Object.entries(addresses)) {
      const channel = document.channels[type] as any;
      expect(channel.address).toBe(address);
      const operation = document.operations[`publish${type}`] as any;
      expect(operation.action).toBe('send');
      expect(resolve(document, operation.channel.$ref)).toBe(channel);
      const message = resolve(document, resolve(document, operation.messages[0].$ref).$ref);
      expect(message.contentType).toBe('application/json');
      const payload = resolve(document, message.payload.$ref);
      expect(payload.properties.type.const).toBe(type);
      expect(payload.required).toEqual(
        expect.arrayContaining([
          'id',
          'type',
          'stream',
          'revision',
          'position',
          'recordedAt',
          'correlationId',
          'causationId',
          'data',
        ]),
      );
      expect(resolve(document, message.headers.$ref).required).toEqual(
        expect.arrayContaining(['Nats-Msg-Id', 'ce-id', 'traceparent']),
      );
    }
  });

  it('every schema compiles under ajv (draft-07) and refuses a JSON number amount', () => {
    const ajv = new Ajv({ strict: false });
    addFormats(ajv);
    const { schemas } = asyncApiDocument('0').components;
    for (const [name, schema] of Object.entries(schemas)) expect(() => ajv.compile(schema), name).not.toThrow();
    const validate = ajv.compile(schemas.TransferPosted!);
    const message = {
      id: '0b5d3c5e-8c1f-4a4e-9a52-2f0f0f6f3a10',
      type: 'TransferPosted',
      stream: 'transfer-t1',
      revision: '0',
      position: '3',
      recordedAt: '2026-01-31T23:59:59.999Z',
      correlationId: 'c',
      causationId: 'c',
      prevHash: 'a'.repeat(64),
      hash: 'b'.repeat(64),
      data: {
        transferId: 't1',
        debitAccountId: 'a',
        creditAccountId: 'b',
        amount: '1050',
        currency: 'USD',
        metadata: {},
        effectiveAt: '2026-01-31T23:59:59.999Z',
      },
    };
    expect(validate(message), ajv.errorsText(validate.errors)).toBe(true);
    expect(validate({ ...message, data: { ...message.data, amount: 1050 } })).toBe(false);
    expect(validate({ ...message, type: 'AccountOpened' })).toBe(false);
  });
});
