import { DAY_MS, HOUR_MS } from '../../src/fraud/features';
import { Prng } from './prng';

/**
 * A labelled synthetic payment history in the spirit of PaySim (Lopez-Rojas et al., 2016):
 * customers paid by employers spend at merchants and pay friends with their own rhythm and amounts;
 * now and then an account is taken over and drained, in a burst, through new mule accounts that
 * forward the money on. Legitimate behaviour includes the same signals in milder doses (night
 * owls, shopping sprees, rent in round amounts, a first payment to a new payee) so that no single
 * feature gives fraud away.
 */
export interface SyntheticTransfer {
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  /** Minor units. */
  readonly amount: number;
  readonly atMs: number;
  readonly fraud: boolean;
}

export interface SyntheticOptions {
  readonly seed: number;
  readonly customers: number;
  readonly days: number;
  readonly startMs: number;
  /** Account takeovers per customer over the whole history. */
  readonly takeoverRate: number;
}

export const DEFAULT_SYNTHETIC: SyntheticOptions = {
  seed: 20250601,
  customers: 2000,
  days: 28,
  startMs: Date.parse('2025-03-03T00:00:00.000Z'),
  takeoverRate: 0.09,
};

interface Customer {
  readonly id: string;
  readonly ratePerDay: number;
  readonly amountMedian: number;
  readonly merchants: string[];
  readonly friends: string[];
  readonly nightOwl: boolean;
  readonly salary: number;
  readonly employer: string;
  readonly landlord: string | null;
  readonly rent: number;
}

/** Hour-of-day weights of ordinary people (UTC, the ledger's clock). */
const DAY_PROFILE = [1, 0.5, 0.3, 0.2, 0.2, 0.4, 1.5, 3, 4, 5, 5, 6, 7, 6, 5, 5, 6, 7, 8, 8, 7, 5, 3, 2];
const NIGHT_PROFILE = [6, 6, 5, 4, 3, 2, 1, 1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 4, 5, 6, 7, 7, 7, 7];

function hourFrom(rng: Prng, profile: readonly number[]): number {
  const total = profile.reduce((a, b) => a + b, 0);
  let pick = rng.next() * total;
  for (let h = 0; h < 24; h++) {
    pick -= profile[h]!;
    if (pick < 0) return h;
  }
  return 23;
}

const cents = (rng: Prng, amount: number) => Math.max(100, Math.round(amount / 100) * 100 + rng.int(0, 99));
const round = (amount: number, step: number) => Math.max(step, Math.round(amount / step) * step);

export function syntheticHistory(options: SyntheticOptions = DEFAULT_SYNTHETIC): SyntheticTransfer[] {
  const rng = new Prng(options.seed);
  const out: SyntheticTransfer[] = [];
  const merchants = Array.from({ length: 250 }, (_, i) => `m${i}`);
  const employers = Array.from({ length: 30 }, (_, i) => `e${i}`);
  const landlords = Array.from({ length: 60 }, (_, i) => `l${i}`);
  const customers: Customer[] = Array.from({ length: options.customers }, (_, i) => {
    const amountMedian = rng.logNormal(3000, 0.7); // 30.00 in minor units, varies by person
    return {
      id: `c${i}`,
      ratePerDay: rng.logNormal(1.6, 0.6),
      amountMedian,
      merchants: Array.from({ length: rng.int(4, 12) }, () => rng.pick(merchants)),
      friends: [],
      nightOwl: rng.chance(0.06),
      salary: round(rng.logNormal(250_000, 0.4), 100),
      employer: rng.pick(employers),
      landlord: rng.chance(0.5) ? rng.pick(landlords) : null,
      rent: round(rng.logNormal(90_000, 0.3), 5000),
    };
  });
  for (const c of customers) {
    for (let k = rng.int(1, 4); k > 0; k--) c.friends.push(rng.pick(customers).id);
  }
  const at = (day: number, hour: number) =>
    options.startMs + day * DAY_MS + hour * HOUR_MS + Math.floor(rng.next() * HOUR_MS);
  const push = (debit: string, credit: string, amount: number, atMs: number, fraud = false) => {
    if (debit !== credit)
      out.push({ debitAccountId: debit, creditAccountId: credit, amount: Math.round(amount), atMs, fraud });
  };

  for (const c of customers) {
    // An opening deposit, then pay every 14 days, rent on the 1st of the simulated month.
    push(c.employer, c.id, c.salary, options.startMs + rng.int(0, 6 * 3600) * 1000);
    for (let day = 0; day < options.days; day++) {
      if (day > 0 && day % 14 === 0) push(c.employer, c.id, c.salary, at(day, rng.int(6, 9)));
      if (c.landlord && day % 28 === 1) push(c.id, c.landlord, c.rent, at(day, rng.int(7, 20)));
      const profile = c.nightOwl ? NIGHT_PROFILE : DAY_PROFILE;
      for (let n = rng.poisson(c.ratePerDay); n > 0; n--) {
        const when = at(day, hourFrom(rng, profile));
        const kind = rng.next();
        if (kind < 0.72) {
          const merchant = rng.chance(0.9) ? rng.pick(c.merchants) : rng.pick(merchants);
          push(c.id, merchant, cents(rng, rng.logNormal(c.amountMedian, 0.8)), when);
        } else if (kind < 0.92 && c.friends.length > 0) {
          const amount = rng.logNormal(c.amountMedian * 1.5, 0.7);
          push(c.id, rng.pick(c.friends), rng.chance(0.4) ? round(amount, 1000) : cents(rng, amount), when);
        } else if (kind < 0.975) {
          // A shopping spree: a handful of purchases within the hour, some at new shops.
          for (let k = rng.int(3, 7), t = when; k > 0; k--, t += rng.int(60, 900) * 1000) {
            push(
              c.id,
              rng.chance(0.6) ? rng.pick(c.merchants) : rng.pick(merchants),
              cents(rng, rng.logNormal(c.amountMedian, 0.6)),
              t,
            );
          }
        } else {
          // A rare big legitimate payment to a new payee (a car, a deposit), often round.
          const payee = `p${c.id}-${day}`;
          const amount = rng.logNormal(c.salary * 0.4, 0.5);
          push(c.id, payee, rng.chance(0.6) ? round(amount, 10_000) : cents(rng, amount), when);
        }
      }
    }
  }

  // Account takeovers: drain most of the victim's money through fresh mules, mostly at night.
  const takeovers = Math.round(options.customers * options.takeoverRate);
  let mule = 0;
  for (let k = 0; k < takeovers; k++) {
    const victim = rng.pick(customers);
    const day = rng.int(2, options.days - 1);
    const hour = rng.chance(0.5) ? rng.int(0, 5) : rng.int(6, 23);
    let t = at(day, hour);
    const stealth = rng.chance(0.4);
    const mules = Array.from({ length: stealth ? 1 : rng.int(1, 3) }, () => `mule${mule++}`);
    let loot = victim.salary * rng.logNormal(0.9, 0.3);
    const steps = stealth ? 1 : rng.int(2, 5);
    for (let s = 0; s < steps && loot > 1000; s++) {
      const share = s === steps - 1 ? loot : loot * (0.3 + rng.next() * 0.5);
      const amount = stealth
        ? cents(rng, victim.amountMedian * rng.logNormal(6, 0.5))
        : rng.chance(0.7)
          ? round(share, 10_000)
          : cents(rng, share);
      const to = rng.pick(mules);
      push(victim.id, to, amount, t, true);
      // The mule passes it on within the hour (PaySim's TRANSFER then CASH_OUT).
      if (rng.chance(0.7)) push(to, `cashout${mule++}`, amount - rng.int(0, 500), t + rng.int(120, 3600) * 1000, true);
      loot -= amount;
      t += rng.int(20, 900) * 1000;
    }
  }

  out.sort((a, b) => a.atMs - b.atMs);
  return out;
}
