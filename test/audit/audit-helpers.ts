import type { TestApp } from '../support/app';
import { expect } from 'vitest';
import { logHead, openAccount, postTransfer } from '../api/api-helpers';

/** bank (debit-normal), alice and bob; four transfers, one backdated to alice's opening. */
export async function seedLedger(t: TestApp, prefix = 'x') {
  const ids = { bank: `${prefix}-bank`, alice: `${prefix}-alice`, bob: `${prefix}-bob` };
  await openAccount(t, { id: ids.bank, normalSide: 'debit' });
  const alice = await openAccount(t, { id: ids.alice });
  await openAccount(t, { id: ids.bob });
  const transfers = [
    await postTransfer(t, { id: `${prefix}-t1`, debitAccountId: ids.bank, creditAccountId: ids.alice, amount: '500' }),
    await postTransfer(t, { id: `${prefix}-t2`, debitAccountId: ids.alice, creditAccountId: ids.bob, amount: '120' }),
    await postTransfer(t, { id: `${prefix}-t3`, debitAccountId: ids.bank, creditAccountId: ids.bob, amount: '75' }),
    // A correction: counts from alice's opening, recorded now.
    await postTransfer(t, {
      id: `${prefix}-t4`,
      debitAccountId: ids.bank,
      creditAccountId: ids.alice,
      amount: '9',
      effectiveAt: alice.openedAt,
    }),
  ];
  return { ids, aliceOpenedAt: alice.openedAt as string, transfers, head: await logHead(t) };
}

/** Position and id of the event that carries a transfer. */
export async function eventOf(t: TestApp, transferId: string): Promise<{ position: string; eventId: string }> {
  const rows = await t.tdb.query<{ position: string; event_id: string }>(
    `select position::text as position, event_id::text as event_id from events where stream_id = $1`,
    [`transfer-${transferId}`],
  );
  return { position: rows[0]!.position, eventId: rows[0]!.event_id };
}

/** Waits until the tree holds the whole log, then answers the tree head of it. */
export async function caughtUpTreeHead(t: TestApp): Promise<any> {
  const head = Number(await logHead(t));
  for (let tries = 0; tries < 200; tries++) {
    const response = await t.request('GET', `/v1/audit/tree-head?size=${head}`);
    if (response.status === 200) return response.body;
    expect(response.status, response.text).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the Merkle tree did not catch up with the log');
}
