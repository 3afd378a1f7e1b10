import { describe, expect, it } from 'vitest';
import { PostTransfersCommand, PostTransfersHandler, type TransferInput } from '../../src/commands/handlers';
import type { Writer } from '../../src/commands/writer';

/** The fingerprints the handler passes to the writer, for these inputs. */
async function fingerprints(...transfers: TransferInput[]): Promise<string[]> {
  let hashes: string[] = [];
  const writer = {
    submit: async (job: { commands: { commandHash: string }[] }) => {
      hashes = job.commands.map((c) => c.commandHash);
      return { items: [], position: 0n };
    },
  } as unknown as Writer;
  await new PostTransfersHandler(writer).execute(
    new PostTransfersCommand(transfers, false, { correlationId: 'c', causationId: 'c' }),
  );
  return hashes;
}

const input: TransferInput = {
  id: 't-1',
  debitAccountId: 'a-1',
  creditAccountId: 'b-2',
  amount: '1050',
  currency: 'EUR',
  code: undefined,
  reference: 'ré "q"',
  metadata: { z: '1', a: '2' },
  effectiveAt: undefined,
  pending: false,
  expiresAt: undefined,
};

describe("a transfer's command hash (idempotency, docs/contract.md)", () => {
  it('is the fingerprint stored events carry: the same value as before the handler stopped copying bodies', async () => {
    // Computed by the handler at b85b4bb (withoutUndefined, then the Hash object): retries of
    // commands recorded then must still match.
    expect(await fingerprints(input, { ...input, pending: true, expiresAt: '2030-01-01T00:00:00.000Z' })).toEqual([
      'aef00892d07212d009fdd7440a81c477ec4126c319342965088c1b03d3231eae',
      '825873e3e66c4c110b4ebea9d1f8ba2a0c7120ca4448b49c147ddba0f248f251',
    ]);
  });

  it('is the same with pending: false, with pending absent, and with undefined members', async () => {
    const { pending: _pending, code: _code, effectiveAt: _at, expiresAt: _exp, ...bare } = input;
    const [withFalse, absent] = await fingerprints(input, bare as TransferInput);
    expect(absent).toBe(withFalse);
  });
});
