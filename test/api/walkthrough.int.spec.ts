import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';

describe('the walk-through of README.md and docs/api-guide.md', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('opens two accounts, posts a transfer, and reads the balance and entries', async () => {
    const alice = await t.request('POST', '/v1/accounts', {
      id: 'alice',
      currency: 'USD',
      flags: { debitsMustNotExceedCredits: true },
    });
    expect(alice.status, JSON.stringify(alice.body)).toBe(201);
    const bank = await t.request('POST', '/v1/accounts', { id: 'bank', currency: 'USD', normalSide: 'debit' });
    expect(bank.status).toBe(201);
    const transfer = await t.request('POST', '/v1/transfers', {
      id: 't1',
      debitAccountId: 'bank',
      creditAccountId: 'alice',
      amount: '1050',
      currency: 'USD',
    });
    expect(transfer.status, JSON.stringify(transfer.body)).toBe(201);
    const position = transfer.body.position;
    const balance = await t.request('GET', `/v1/accounts/alice/balance?minPosition=${position}`);
    expect(balance.status, JSON.stringify(balance.body)).toBe(200);
    expect(balance.body.balance).toBe('1050');
    const bankAccount = await t.request('GET', `/v1/accounts/bank?minPosition=${position}`);
    expect(bankAccount.body.balance).toBe('1050');
    const entries = await t.request('GET', `/v1/accounts/alice/entries?minPosition=${position}`);
    expect(entries.body).toMatchObject({
      items: [{ transferId: 't1', side: 'credit', amount: '1050', balanceAfter: '1050' }],
      nextCursor: null,
    });
    const again = await t.request('POST', '/v1/transfers', {
      id: 't1',
      debitAccountId: 'bank',
      creditAccountId: 'alice',
      amount: '1050',
      currency: 'USD',
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(transfer.body);
    const overdraw = await t.request('POST', '/v1/transfers', {
      id: 't2',
      debitAccountId: 'alice',
      creditAccountId: 'bank',
      amount: '1051',
      currency: 'USD',
    });
    expect(overdraw.status).toBe(422);
    expect(overdraw.headers['content-type']).toContain('application/problem+json');
    expect(overdraw.body.type).toMatch(/insufficient-funds$/);
    const missing = await t.request('GET', '/v1/nope');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
  });

  it('docs/api-guide.md: every command gives the answer the guide shows (timestamps and positions aside)', async () => {
    const fresh = await startTestApp();
    try {
      const steps = guideSteps(readFileSync(path.resolve(__dirname, '../../docs/api-guide.md'), 'utf8'));
      // The guide covers accounts, a transfer, reads, a retry, an error, a hold's life and a refund.
      expect(steps.length).toBeGreaterThanOrEqual(15);
      // The guide's positions, as this run has them (the guide's run had the fraud scorer on: its scores take positions too).
      const positions = new Map<string, string>();
      for (const step of steps) {
        const url = step.url.replace(/minPosition=(\d+)/, (_m, documented: string) => {
          const actual = positions.get(documented);
          if (actual === undefined)
            throw new Error(`${step.url}: the guide's position ${documented} comes from no answer`);
          return `minPosition=${actual}`;
        });
        const response = await fresh.request(step.method, url, step.body);
        const what = `${step.method} ${step.url} ${JSON.stringify(step.body ?? '')}`;
        expect(response.status, `${what}: ${response.text}`).toBe(step.status);
        const documented = step.answer as { position?: string };
        if (documented.position !== undefined) {
          const known = positions.get(documented.position);
          if (known !== undefined) expect(response.body.position, what).toBe(known);
          positions.set(documented.position, response.body.position);
        }
        expect(
          withoutTimes({ ...response.body, ...(documented.position ? { position: documented.position } : {}) }),
          what,
        ).toEqual(withoutTimes(step.answer));
      }
    } finally {
      await fresh.close();
    }
  });
});

interface GuideStep {
  method: string;
  url: string;
  body?: unknown;
  status: number;
  answer: unknown;
}

/**
 * The curl commands of the guide's sh blocks, in order, each with the answer shown under it
 * (`# <status> <json>`, the JSON wrapped over `#` lines).
 */
function guideSteps(markdown: string): GuideStep[] {
  const steps: GuideStep[] = [];
  for (const [, block] of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = block!.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i]!.startsWith('curl ')) continue;
      let command = lines[i]!;
      while (command.endsWith('\\')) command = `${command.slice(0, -1)} ${lines[++i]!.trim()}`;
      const answer = /^# (\d{3}) (.*)$/.exec(lines[i + 1] ?? '');
      if (!answer) throw new Error(`the guide shows no answer for: ${command}`);
      let json = answer[2]!;
      i++;
      while (/^#\s{2,}\S/.test(lines[i + 1] ?? '')) json += lines[++i]!.replace(/^#\s+/, '');
      const url = /\$LEDGER([^\s"']+)/.exec(command)?.[1];
      if (!url) throw new Error(`no $LEDGER url in: ${command}`);
      const body = /-d '([^']*)'/.exec(command)?.[1];
      steps.push({
        method: /-X (\w+)/.exec(command)?.[1] ?? 'GET',
        url,
        ...(body !== undefined ? { body: JSON.parse(body) } : {}),
        status: Number(answer[1]),
        answer: JSON.parse(json),
      });
    }
  }
  return steps;
}

/** Every ISO timestamp as <time>: they differ from run to run. */
function withoutTimes(value: unknown): unknown {
  if (typeof value === 'string') return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(value) ? '<time>' : value;
  if (Array.isArray(value)) return value.map(withoutTimes);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutTimes(v)]));
  }
  return value;
}
