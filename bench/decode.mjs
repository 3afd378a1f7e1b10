// The decoder's micro-benchmark (`npm run bench:decode`; BENCH_QUICK=1 for a short run): what
// decoding one recorded event costs the readers that decode every event (the projector, the relay,
// the replay, the write model's loads). A mix of the ledger's events, as the log holds them
// (mostly transfers), each already parsed from JSON as the store hands it over:
//   - decodeEvent (src/events/decode.ts): the compiled check of the event's zod schema;
//   - the same schema's zod safeParse, for comparison (what a plain zod decoder would cost);
//   - JSON.parse of the event's data, the reference: what every read already pays per event.
// Prints nanoseconds per event (the median of several rounds) and writes bench/out/decode.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { decodeEvent } = require(path.join(root, 'dist/src/events/decode.js'));
const { EVENT_CATALOGUE } = require(path.join(root, 'dist/src/events/event-schemas.js'));

const QUICK = process.env.BENCH_QUICK === '1';
const EVENTS_PER_ROUND = QUICK ? 200_000 : 1_000_000;
const ROUNDS = QUICK ? 3 : 7;

const transfer = (i) => ({
  transferId: `t-${i}`,
  debitAccountId: `acc-${i % 1000}`,
  creditAccountId: `acc-${(i * 7) % 1000}`,
  amount: String(1 + (i % 100_000)),
  currency: 'USD',
  metadata: i % 10 === 0 ? { order: `o-${i}` } : {},
  effectiveAt: '2026-01-31T23:59:59.999Z',
});

/** 1,000 distinct events: 90 % TransferPosted, the rest holds, openings and fraud scores. */
function mix() {
  const events = [];
  for (let i = 0; i < 1000; i++) {
    const kind = i % 20;
    if (kind < 18) events.push({ type: 'TransferPosted', data: transfer(i) });
    else if (kind === 18 && i % 40 === 18) {
      events.push({ type: 'TransferPending', data: { ...transfer(i), expiresAt: '2026-02-01T00:00:00.000Z' } });
    } else if (kind === 18) {
      events.push({
        type: 'AccountOpened',
        data: {
          accountId: `acc-${i}`,
          currency: 'USD',
          normalSide: 'credit',
          flags: { debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: false },
          metadata: {},
          openedAt: '2026-01-01T00:00:00.000Z',
        },
      });
    } else {
      events.push({
        type: 'FraudScored',
        data: {
          transferId: `t-${i}`,
          score: 0.125,
          modelVersion: 'fraud-v1.onnx@0123456789ab',
          decision: 'allow',
          features: Array.from({ length: 12 }, (_, k) => k / 8),
          featuresSha256: 'a'.repeat(64),
        },
      });
    }
  }
  return events.map((e, i) => ({ position: BigInt(i + 1), streamId: `s-${i}`, ...e }));
}

/** Nanoseconds per event of `run` over the mix, the median of ROUNDS rounds (after one warm-up). */
function measure(events, run) {
  const perEvent = [];
  let sink = 0;
  for (let round = -1; round < ROUNDS; round++) {
    const started = process.hrtime.bigint();
    for (let n = 0; n < EVENTS_PER_ROUND; n++) sink += run(events[n % events.length]) ? 1 : 0;
    const ns = Number(process.hrtime.bigint() - started) / EVENTS_PER_ROUND;
    if (round >= 0) perEvent.push(ns);
  }
  if (sink !== EVENTS_PER_ROUND * (ROUNDS + 1)) throw new Error('a sample did not decode');
  perEvent.sort((a, b) => a - b);
  return perEvent[Math.floor(perEvent.length / 2)];
}

const events = mix();
const texts = new Map(events.map((e) => [e, JSON.stringify(e.data)]));
const figures = {
  decodeEventNs: measure(events, (e) => decodeEvent(e).type === e.type),
  zodSafeParseNs: measure(events, (e) => EVENT_CATALOGUE[e.type].data.safeParse(e.data).success),
  jsonParseNs: measure(events, (e) => JSON.parse(texts.get(e)) !== null),
};
const round1 = (n) => Math.round(n * 10) / 10;
console.log(`decode, ${EVENTS_PER_ROUND.toLocaleString('en')} events a round, median of ${ROUNDS} rounds:`);
console.log(`  decodeEvent (compiled check)   ${round1(figures.decodeEventNs)} ns/event`);
console.log(`  zod safeParse (same schemas)   ${round1(figures.zodSafeParseNs)} ns/event`);
console.log(`  JSON.parse of the data (ref.)  ${round1(figures.jsonParseNs)} ns/event`);
console.log(`  decodeEvent / JSON.parse       ${round1((figures.decodeEventNs / figures.jsonParseNs) * 100)} %`);
mkdirSync(path.join(root, 'bench', 'out'), { recursive: true });
writeFileSync(
  path.join(root, 'bench', 'out', 'decode.json'),
  `${JSON.stringify({ at: new Date().toISOString(), quick: QUICK, ...figures }, null, 2)}\n`,
);
