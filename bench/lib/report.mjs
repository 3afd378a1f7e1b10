// The final figures: one table of every figure with its ratio to pgbench and its target (targets
// are informational: PASS/MISS is printed, nothing fails), and a table of per-phase details.
import { fmtMs, fmtNumber, round, table } from './util.mjs';

// The rate targets: single transfers ≥ 1.5× pgbench64 and ≥ the better of pgbench16/64;
// batches ≥ 25,000/s and ≥ 0.5× the raw batched-insert ceiling.
const SINGLE_VS_PGBENCH64 = 1.5;
const BATCH_MIN_PER_SECOND = 25_000;
const BATCH_VS_CEILING = 0.5;

const verdict = (ok) => (ok === null ? 'n/a' : ok ? 'PASS' : 'MISS');
const ratio = (a, b) => (a === null || a === undefined || !b ? null : a / b);
const fmtRatio = (r) => (r === null ? '–' : `${r.toFixed(2)}×`);

/** Computes the target verdicts and the summary figures from the raw results. */
export function summarise(results) {
  const pg16 = results.pgbench?.runs?.c16?.tps ?? null;
  const pg64 = results.pgbench?.runs?.c64?.tps ?? null;
  const p = results.phases ?? {};
  const s64 = p.spread64;
  const hot = p.hot64;
  const batch = p.batch;
  const lag = results.projectionLag;
  const relay = results.relayLag;
  const peakRssMb = results.memory?.peakRssMb ?? null;
  const hotSpread = ratio(hot?.perSecond, s64?.perSecond);
  const holds = p.holds64;

  const targets = [
    {
      name: 'single transfers, 64 clients ≥ 1.5× pgbench (64 clients)',
      short: '≥ 1.5× pgbench64',
      measured: s64?.perSecond != null && pg64 ? `${fmtRatio(ratio(s64.perSecond, pg64))} pgbench` : '–',
      ok: s64?.perSecond != null && pg64 ? s64.perSecond >= SINGLE_VS_PGBENCH64 * pg64 : null,
    },
    {
      name: 'single transfers, 64 clients: p99 ≤ 50 ms',
      short: 'p99 ≤ 50 ms',
      measured: s64?.p99Ms != null ? `${fmtMs(s64.p99Ms)} ms` : '–',
      ok: s64?.p99Ms != null ? s64.p99Ms <= 50 : null,
    },
    {
      name: 'hot account ≥ 0.8× spread (64 clients)',
      short: '≥ 0.8',
      measured: hotSpread !== null ? `${hotSpread.toFixed(2)}× spread` : '–',
      ok: hotSpread !== null ? hotSpread >= 0.8 : null,
    },
    {
      name: 'batch (1,000 per request, non-atomic) ≥ 25,000 transfers/s',
      short: '≥ 25,000/s',
      measured: batch?.perSecond != null ? `${fmtNumber(batch.perSecond)} /s` : '–',
      ok: batch?.perSecond != null ? batch.perSecond >= BATCH_MIN_PER_SECOND : null,
    },
    {
      name: 'batch ≥ 0.5× the raw batched-insert ceiling of the same run',
      short: '≥ 0.5× ceiling',
      measured:
        batch?.perSecond != null && results.ceiling?.rowsPerSecond
          ? `${fmtRatio(ratio(batch.perSecond, results.ceiling.rowsPerSecond))} ceiling`
          : '–',
      ok:
        batch?.perSecond != null && results.ceiling?.rowsPerSecond
          ? batch.perSecond >= BATCH_VS_CEILING * results.ceiling.rowsPerSecond
          : null,
    },
    {
      name: 'first transfer on a cold 1,000,000-entry account ≤ 20 ms, no RSS growth from loading it',
      short: '≤ 20 ms',
      measured:
        results.coldAccount?.firstTransferMs != null
          ? `${fmtMs(results.coldAccount.firstTransferMs)} ms (${results.coldAccount.entries} entries), RSS ${results.coldAccount.rssBeforeMb} → ${results.coldAccount.rssAfterMb} MB`
          : '–',
      ok: results.coldAccount?.firstTransferMs != null ? results.coldAccount.firstTransferMs <= 20 : null,
    },
    {
      name: 'projection lag p99 ≤ 100 ms (under 64-client spread load)',
      short: 'p99 ≤ 100 ms',
      measured: lag?.p99Ms != null ? `${fmtMs(lag.p99Ms)} ms` : '–',
      ok: lag?.p99Ms != null ? lag.p99Ms <= 100 : null,
    },
    {
      name: 'peak RSS ≤ 250 MB',
      short: '≤ 250 MB',
      measured: peakRssMb !== null ? `${peakRssMb.toFixed(1)} MB` : '–',
      ok: peakRssMb !== null ? peakRssMb <= 250 : null,
    },
    {
      name: 'relay commit → NATS delivery p99 ≤ 100 ms (under 64-client spread load)',
      short: 'p99 ≤ 100 ms',
      measured: relay?.p99Ms != null ? `${fmtMs(relay.p99Ms)} ms` : 'not measured (no NATS)',
      ok: relay?.p99Ms != null ? relay.p99Ms <= 100 : null,
    },
  ].map((t) => ({ ...t, verdict: verdict(t.ok) }));

  const targetRates = {
    spread64: pg64 ? Math.max(SINGLE_VS_PGBENCH64 * pg64, pg16 ?? 0) : null,
    batch: Math.max(BATCH_MIN_PER_SECOND, BATCH_VS_CEILING * (results.ceiling?.rowsPerSecond ?? 0)),
  };
  const budget = Object.entries(targetRates)
    .map(([key, targetRate]) => cpuBudget(key, p[key], targetRate, results.machine?.cpus))
    .filter((row) => row !== null);

  return {
    pgbenchTps: { c16: pg16, c64: pg64 },
    budget,
    ratios: {
      single64VsPgbench64: round(ratio(s64?.perSecond, pg64), 3),
      single64VsPgbench16: round(ratio(s64?.perSecond, pg16), 3),
      hotVsSpread: round(hotSpread, 3),
      batchVsPgbench64: round(ratio(batch?.perSecond, pg64), 3),
      batchVsInsertCeiling: round(ratio(batch?.perSecond, results.ceiling?.rowsPerSecond), 3),
      // Holds captured per second (two requests each) over single transfers per second, 64 clients each.
      holdsCapturedVsSingle64: round(ratio(holds?.perSecond, s64?.perSecond), 3),
      // The same in requests: a hold and a capture are each one command, as a transfer is.
      holdRequestsVsSingle64: round(ratio(holds?.requestsPerSecond, s64?.perSecond), 3),
    },
    peakRssMb: round(peakRssMb, 1),
    targets,
  };
}

/**
 * What a phase's transfers cost the whole machine, and what its target allows: every process's CPU
 * (service, PostgreSQL, this benchmark and its clients, the relay and NATS, anything else) per
 * transfer, the rate the machine's cores could reach at that cost if nothing else ran, and the
 * cost per transfer at which the target rate would fit in those cores.
 */
function cpuBudget(key, phase, targetRate, cores) {
  if (!phase || phase.error || !phase.perSecond || phase.cpu?.otherPct == null || !targetRate || !cores) return null;
  const perTransferUs = (pct) => (pct * 10_000) / phase.perSecond;
  const { servicePct, postgresPct, benchPct, otherPct } = phase.cpu;
  const allPct = servicePct + postgresPct + benchPct + otherPct;
  const costUs = perTransferUs(allPct);
  const allowedUs = (cores * 1_000_000) / targetRate;
  return {
    phase: key,
    perSecond: phase.perSecond,
    busyPct: round(allPct / cores, 0),
    costUs: round(costUs, 0),
    split: {
      service: round(perTransferUs(servicePct), 0),
      postgres: round(perTransferUs(postgresPct), 0),
      bench: round(perTransferUs(benchPct), 0),
      other: round(perTransferUs(otherPct), 0),
    },
    // The cores' rate at this cost per transfer.
    coresCeiling: round((cores * 1_000_000) / costUs, 0),
    targetRate: round(targetRate, 0),
    allowedUs: round(allowedUs, 0),
    cutNeeded: round(costUs / allowedUs, 2),
  };
}

/** The printed report. */
export function render(results, summary) {
  const pg16 = summary.pgbenchTps.c16;
  const pg64 = summary.pgbenchTps.c64;
  const t = Object.fromEntries(summary.targets.map((x, i) => [i, x]));
  const p = results.phases ?? {};
  const lag = results.projectionLag;
  const rows = [];
  const add = (name, value, unit, perSecond, target) =>
    rows.push([
      name,
      value,
      unit,
      fmtRatio(ratio(perSecond, pg16)),
      fmtRatio(ratio(perSecond, pg64)),
      target ? target.short : '',
      target ? target.verdict : '',
    ]);

  const pg1 = results.pgbench?.runs?.c1;
  if (pg1) add('pgbench TPC-B, 1 client', fmtNumber(pg1.tps, 1), `TPS (${pg1.latencyAvgMs} ms avg)`, pg1.tps);
  add('pgbench TPC-B, 16 clients', fmtNumber(pg16, 1), 'TPS', pg16);
  add('pgbench TPC-B, 64 clients', fmtNumber(pg64, 1), 'TPS', pg64);
  for (const [key, label] of [
    ['spread1', 'single transfer, spread, 1 client'],
    ['spread16', 'single transfer, spread, 16 clients'],
    ['spread64', 'single transfer, spread, 64 clients'],
    ['hot64', 'single transfer, hot account, 64 clients'],
  ]) {
    const phase = p[key];
    if (!phase || phase.error) {
      add(label, phase?.error ? 'FAILED' : '–', '', null);
      continue;
    }
    add(label, fmtNumber(phase.perSecond), 'transfers/s', phase.perSecond, key === 'spread64' ? t[0] : undefined);
    add(
      `  latency p50 / p99`,
      `${fmtMs(phase.p50Ms)} / ${fmtMs(phase.p99Ms)}`,
      'ms',
      null,
      key === 'spread64' ? t[1] : undefined,
    );
    add(`  errors (non-2xx)`, fmtNumber(phase.errors), `of ${fmtNumber(phase.requests)}`, null);
  }
  add('hot / spread (64 clients)', summary.ratios.hotVsSpread?.toFixed(2) ?? '–', '×', null, t[2]);
  for (const [key, label, target] of [
    ['batch', 'batch 1,000/request, non-atomic', t[3]],
    ['batchAtomic', 'batch 1,000/request, atomic', undefined],
  ]) {
    const phase = p[key];
    if (!phase || phase.error) {
      add(label, phase?.error ? 'FAILED' : '–', '', null);
      continue;
    }
    add(`${label}, ${phase.clients} clients`, fmtNumber(phase.perSecond), 'transfers/s', phase.perSecond, target);
    add(
      `  request latency p50 / p99`,
      `${fmtMs(phase.requestLatency.p50Ms)} / ${fmtMs(phase.requestLatency.p99Ms)}`,
      'ms',
      null,
    );
    add(
      `  errors (requests / items)`,
      `${fmtNumber(phase.errors)} / ${fmtNumber(phase.failedItems)}`,
      `of ${fmtNumber(phase.requests)} req`,
      null,
    );
  }
  const holds = p.holds64;
  if (!holds || holds.error) {
    add('holds then captures, 64 clients', holds?.error ? 'FAILED' : '–', '', null);
  } else {
    add('holds then captures, 64 clients', fmtNumber(holds.perSecond), 'holds captured/s', holds.perSecond);
    add('  requests (holds + captures)', fmtNumber(holds.requestsPerSecond), 'requests/s', holds.requestsPerSecond);
    add('  hold latency p50 / p99', `${fmtMs(holds.hold.p50Ms)} / ${fmtMs(holds.hold.p99Ms)}`, 'ms', null);
    add('  capture latency p50 / p99', `${fmtMs(holds.capture.p50Ms)} / ${fmtMs(holds.capture.p99Ms)}`, 'ms', null);
    add(`  errors (non-2xx)`, fmtNumber(holds.errors), `of ${fmtNumber(holds.requests)}`, null);
  }
  add(
    'holds captured / single transfers (64 clients)',
    summary.ratios.holdsCapturedVsSingle64?.toFixed(2) ?? '–',
    `× (requests: ${summary.ratios.holdRequestsVsSingle64?.toFixed(2) ?? '–'}×)`,
    null,
  );
  if (lag && !lag.error) {
    add(
      'projection lag p50 / p99 (64-client load)',
      `${fmtMs(lag.p50Ms)} / ${fmtMs(lag.p99Ms)}`,
      `ms (${lag.samples} samples)`,
      null,
      t[6],
    );
  } else {
    add('projection lag', lag?.error ? 'FAILED' : '–', '', null);
  }
  const relay = results.relayLag;
  if (relay?.p99Ms != null) {
    add(
      'relay commit → NATS delivery p50 / p99 (64-client load)',
      `${fmtMs(relay.p50Ms)} / ${fmtMs(relay.p99Ms)}`,
      `ms (${relay.samples} events)`,
      null,
      t[8],
    );
  } else {
    add('relay commit → NATS delivery', 'not measured', '(no NATS)', null);
  }
  const ceiling = results.ceiling;
  if (ceiling && !ceiling.error) {
    add(
      `raw batched-insert ceiling, ${ceiling.clients} clients × ${ceiling.perStatement} rows/INSERT`,
      fmtNumber(ceiling.rowsPerSecond),
      'event-sized rows/s',
      ceiling.rowsPerSecond,
    );
    add('  batch / ceiling', summary.ratios.batchVsInsertCeiling?.toFixed(2) ?? '–', '×', null, t[4]);
  } else {
    add('raw batched-insert ceiling', ceiling?.error ? 'FAILED' : '–', '', null);
  }
  const cold = results.coldAccount;
  if (cold && !cold.error) {
    add(
      `first transfer, cold ${fmtNumber(cold.entries)}-entry account`,
      `${fmtMs(cold.firstTransferMs)} / ${fmtMs(cold.secondTransferMs)}`,
      `ms (first / next), RSS ${cold.rssBeforeMb} → ${cold.rssAfterMb} MB`,
      null,
      t[5],
    );
    if (cold.processFirstRequestMs != null)
      add(
        '  the restarted process, its first 4 transfers (small accounts)',
        fmtMs(cold.processFirstRequestMs),
        'ms (connections, JIT: before the cold account)',
        null,
      );
  } else {
    add('cold account', cold?.error ? 'FAILED' : '–', '', null);
  }
  add('peak RSS (VmHWM)', summary.peakRssMb?.toFixed(1) ?? '–', 'MB', null, t[7]);

  const figures = table(['figure', 'value', 'unit', '× pgbench16', '× pgbench64', 'target', 'result'], rows);

  const detailRows = [];
  for (const [key, phase] of Object.entries(p)) {
    if (!phase || phase.error) {
      detailRows.push([key, 'FAILED', '', '', '', '', '', '', '', phase?.error?.slice(0, 60) ?? '']);
      continue;
    }
    const latency = phase.requestLatency ?? phase;
    detailRows.push([
      key,
      `${phase.seconds} s`,
      fmtNumber(phase.requests),
      fmtNumber(phase.perSecond),
      `${fmtMs(latency.p50Ms)} / ${fmtMs(latency.p90Ms)} / ${fmtMs(latency.p99Ms)} / ${fmtMs(latency.maxMs)}`,
      `${phase.cpu.servicePct}% / ${phase.cpu.postgresPct}% / ${phase.cpu.benchPct}% / ${phase.cpu.otherPct}%`,
      phase.writer
        ? `${fmtNumber(phase.writer.commitsPerSecond)} / ${phase.writer.commandsPerCommit ?? '–'} / ${fmtMs(phase.writer.avgCommitMs)}`
        : '–',
      phase.drainMs == null ? '–' : fmtMs(phase.drainMs),
      phase.rssMbAfter == null ? '–' : phase.rssMbAfter.toFixed(0),
      phase.statuses
        ? Object.entries(phase.statuses)
            .map(([k, v]) => `${k}:${v}`)
            .join(' ')
        : `errors:${phase.errors} failedItems:${phase.failedItems}`,
    ]);
  }
  const details = table(
    [
      'phase',
      'time',
      'requests',
      'ok/s',
      'latency p50/p90/p99/max ms',
      'CPU svc/pg/bench/other',
      'commits/s, cmds, ms',
      'drain ms',
      'RSS MB',
      'statuses',
    ],
    detailRows,
  );

  const budget = table(
    [
      'phase',
      'ok/s',
      'cores busy',
      'CPU µs per transfer, all processes (svc/pg/bench/other)',
      'cores at that cost',
      'target',
      'µs the target allows',
      'cost / allowed',
    ],
    summary.budget.map((b) => [
      b.phase,
      fmtNumber(b.perSecond),
      `${b.busyPct}%`,
      `${fmtNumber(b.costUs)} (${b.split.service} / ${b.split.postgres} / ${b.split.bench} / ${b.split.other})`,
      `${fmtNumber(b.coresCeiling)}/s`,
      `${fmtNumber(b.targetRate)}/s`,
      fmtNumber(b.allowedUs),
      `${b.cutNeeded.toFixed(2)}×`,
    ]),
  );

  const verdicts = table(
    ['target (informational)', 'measured', 'result'],
    summary.targets.map((x) => [x.name, x.measured, x.verdict]),
  );
  return { figures, details, budget, verdicts };
}
