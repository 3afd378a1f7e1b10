// The measured phases: single transfers under N concurrent clients (autocannon), batches of
// transfers (own keep-alive loop), and the projection-lag sampler that runs alongside a load.
import autocannon from 'autocannon';
import { JsonClient } from './http.mjs';
import { Samples, cpuMeter, round, sleep } from './util.mjs';

export function latencyFigures(samples) {
  const [p50, p90, p99] = samples.percentiles(50, 90, 99);
  return { p50Ms: round(p50, 2), p90Ms: round(p90, 2), p99Ms: round(p99, 2), maxMs: round(samples.max(), 2) };
}

/**
 * POST /v1/transfers from `connections` keep-alive clients for `seconds` (or `maxRequests`,
 * whichever comes first), each body made fresh by `makeBody()`. Latency is measured per response
 * (successful ones only); any non-2xx or socket error counts as an error.
 */
export function singleTransferPhase({ service, apiKey, connections, seconds, maxRequests, makeBody }) {
  const latencies = new Samples();
  const statuses = {};
  let ok = 0;
  let errors = 0;
  let firstError;
  const cpu = cpuMeter(service.pid);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: service.baseUrl,
        connections,
        duration: seconds,
        maxOverallRequests: maxRequests,
        timeout: 30,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        requests: [
          {
            method: 'POST',
            path: '/v1/transfers',
            setupRequest(request) {
              request.body = JSON.stringify(makeBody());
              return request;
            },
            onResponse(status, body) {
              if ((status < 200 || status > 299) && firstError === undefined)
                firstError = `HTTP ${status} ${body.slice(0, 800)}`;
            },
          },
        ],
      },
      (error) => {
        const wallS = (performance.now() - started) / 1000;
        if (error) return reject(error);
        resolve({
          connections,
          seconds: round(wallS, 2),
          requests: ok + errors,
          ok,
          errors,
          statuses,
          perSecond: round(ok / wallS, 1),
          ...latencyFigures(latencies),
          firstError: firstError ?? null,
          cpu: cpu.stop(),
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      if (statusCode >= 200 && statusCode <= 299) {
        ok++;
        latencies.add(responseTime);
      } else {
        errors++;
      }
    });
    instance.on('reqError', (error) => {
      errors++;
      statuses.socketError = (statuses.socketError ?? 0) + 1;
      if (firstError === undefined) firstError = `socket error: ${error?.message ?? error}`;
    });
  });
}

/**
 * Card authorisations: each of `connections` keep-alive clients (autocannon, as the single-transfer
 * phases) holds with POST /v1/transfers (`pending: true`, body from `makeHold()`), then captures it
 * with POST /v1/transfers/{id}/post (`makeCapture(hold)`), and again, for `seconds` (or
 * `maxRequests` requests in all). A capture is sent only after its hold's 201. Latency is per
 * request, holds and captures apart (successful ones only); any non-2xx or socket error is an error.
 */
export function holdCapturePhase({ service, apiKey, connections, seconds, maxRequests, makeHold, makeCapture }) {
  const latencies = { hold: new Samples(), capture: new Samples(), all: new Samples() };
  const ok = { hold: 0, capture: 0 };
  const statuses = {};
  let errors = 0;
  let firstError;
  // autocannon calls a request's onResponse just before it emits 'response' for it, in one go.
  let answered = 'hold';
  const cpu = cpuMeter(service.pid);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: service.baseUrl,
        connections,
        duration: seconds,
        maxOverallRequests: maxRequests,
        timeout: 30,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        requests: [
          {
            method: 'POST',
            path: '/v1/transfers',
            setupRequest(request, context) {
              context.hold = makeHold();
              context.held = false;
              request.body = JSON.stringify(context.hold);
              return request;
            },
            onResponse(status, body, context) {
              answered = 'hold';
              context.held = status === 201;
              if (status !== 201 && firstError === undefined) firstError = `hold: HTTP ${status} ${body.slice(0, 800)}`;
            },
          },
          {
            method: 'POST',
            // Without its hold there is nothing to capture: autocannon starts the next hold instead.
            setupRequest(request, context) {
              if (!context.held) return undefined;
              request.path = `/v1/transfers/${encodeURIComponent(context.hold.id)}/post`;
              request.body = JSON.stringify(makeCapture(context.hold));
              return request;
            },
            onResponse(status, body) {
              answered = 'capture';
              if (status !== 200 && firstError === undefined)
                firstError = `capture: HTTP ${status} ${body.slice(0, 800)}`;
            },
          },
        ],
      },
      (error) => {
        const wallS = (performance.now() - started) / 1000;
        if (error) return reject(error);
        resolve({
          connections,
          seconds: round(wallS, 2),
          requests: ok.hold + ok.capture + errors,
          ok: ok.hold + ok.capture,
          errors,
          statuses,
          holds: ok.hold,
          captures: ok.capture,
          // Money moved: a hold counts once it is captured.
          perSecond: round(ok.capture / wallS, 1),
          requestsPerSecond: round((ok.hold + ok.capture) / wallS, 1),
          hold: latencyFigures(latencies.hold),
          capture: latencyFigures(latencies.capture),
          // Both kinds together (the per-phase table's latency column).
          ...latencyFigures(latencies.all),
          firstError: firstError ?? null,
          cpu: cpu.stop(),
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      const kind = answered;
      statuses[`${kind}:${statusCode}`] = (statuses[`${kind}:${statusCode}`] ?? 0) + 1;
      if (statusCode === (kind === 'hold' ? 201 : 200)) {
        ok[kind]++;
        latencies[kind].add(responseTime);
        latencies.all.add(responseTime);
      } else {
        errors++;
      }
    });
    instance.on('reqError', (error) => {
      errors++;
      statuses.socketError = (statuses.socketError ?? 0) + 1;
      if (firstError === undefined) firstError = `socket error: ${error?.message ?? error}`;
    });
  });
}

/**
 * POST /v1/transfers/batch with `perRequest` transfers per request from `clients` concurrent
 * clients for `seconds` (or `maxRequests` requests). Counts posted transfers (status `created`)
 * and failed items; any non-200 is an error.
 */
export async function batchPhase({ service, apiKey, clients, seconds, maxRequests, perRequest, atomic, makeBody }) {
  const client = new JsonClient(service.baseUrl, { apiKey, maxSockets: clients, timeoutMs: 60_000 });
  const latencies = new Samples(1024);
  let requests = 0;
  let posted = 0;
  let failedItems = 0;
  let errors = 0;
  let firstError;
  const cpu = cpuMeter(service.pid);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const lane = async () => {
    while (performance.now() < deadline && requests < maxRequests) {
      requests++;
      const transfers = Array.from({ length: perRequest }, makeBody);
      let response;
      try {
        response = await client.post('/v1/transfers/batch', { transfers, atomic });
      } catch (error) {
        errors++;
        firstError ??= `request error: ${error.message}`;
        continue;
      }
      if (response.status !== 200) {
        errors++;
        firstError ??= `HTTP ${response.status} ${response.text.slice(0, 800)}`;
        continue;
      }
      latencies.add(response.ms);
      for (const result of response.json().results) {
        if (result.status === 'created') posted++;
        else {
          failedItems++;
          firstError ??= `item ${result.status}: ${JSON.stringify(result.problem ?? result).slice(0, 800)}`;
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: clients }, lane));
  } finally {
    client.close();
  }
  const wallS = (performance.now() - started) / 1000;
  return {
    clients,
    perRequest,
    atomic,
    seconds: round(wallS, 2),
    requests,
    posted,
    failedItems,
    errors,
    perSecond: round(posted / wallS, 1),
    requestLatency: latencyFigures(latencies),
    firstError: firstError ?? null,
    cpu: cpu.stop(),
  };
}

/**
 * Projection lag, sampled alongside a load: every `intervalMs` post one transfer, then read it
 * back with `minPosition=<its position>` (the service answers once its projector has reached that
 * position). The lag is the time from the POST's answer to the read's answer, i.e. how long a client
 * waits before its write is visible in the read models. One sample at a time, so the sampler adds
 * at most ~1/intervalMs requests per second of its own.
 */
export function startLagSampler({ service, apiKey, intervalMs = 100, makeBody }) {
  const client = new JsonClient(service.baseUrl, { apiKey, maxSockets: 2, timeoutMs: 30_000 });
  const lags = new Samples(1024);
  let notCaughtUp = 0;
  let errors = 0;
  let firstError;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const tick = performance.now();
      try {
        const body = makeBody();
        const posted = await client.post('/v1/transfers', body);
        if (posted.status !== 201) {
          errors++;
          firstError ??= `POST HTTP ${posted.status} ${posted.text.slice(0, 300)}`;
        } else {
          const { position } = posted.json();
          const visibleFrom = performance.now();
          const read = await client.get(`/v1/transfers/${body.id}?minPosition=${position}`);
          if (read.status === 200) lags.add(performance.now() - visibleFrom);
          else if (read.status === 503) {
            // Not visible within the service's wait: counted at the time waited (a lower bound).
            notCaughtUp++;
            lags.add(performance.now() - visibleFrom);
          } else {
            errors++;
            firstError ??= `GET HTTP ${read.status} ${read.text.slice(0, 300)}`;
          }
        }
      } catch (error) {
        errors++;
        firstError ??= error.message;
      }
      const wait = intervalMs - (performance.now() - tick);
      if (wait > 0 && !stopped) await sleep(wait);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      client.close();
      const [p50, p90, p99] = lags.percentiles(50, 90, 99);
      return {
        samples: lags.length,
        p50Ms: round(p50, 2),
        p90Ms: round(p90, 2),
        p99Ms: round(p99, 2),
        maxMs: round(lags.max(), 2),
        notCaughtUp,
        errors,
        firstError: firstError ?? null,
      };
    },
  };
}

/**
 * The writer's group-commit counters from GET /metrics (when the service exposes them), so a phase
 * can report how many commands each transaction carried. Returns null when unavailable.
 */
export async function writerCounters(client) {
  try {
    const response = await client.get('/metrics');
    if (response.status !== 200) return null;
    const value = (name) => {
      const match = response.text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm'));
      return match ? Number(match[1]) : null;
    };
    const commands = value('ledger_write_batch_commands_sum');
    const commits = value('ledger_write_batch_commands_count');
    const seconds = value('ledger_write_batch_duration_seconds_sum');
    const appendSeconds = value('ledger_append_duration_seconds_sum');
    const decidedAhead = value('ledger_write_batches_decided_ahead_total');
    const sentAhead = value('ledger_write_appends_sent_ahead_total');
    if (commands === null || commits === null) return null;
    return { commands, commits, seconds, appendSeconds, decidedAhead, sentAhead };
  } catch {
    return null;
  }
}

/** A counter's growth between two readings, as a percentage of `of` (null when unknown). */
function share(before, after, of) {
  return of > 0 && before != null && after != null ? Math.round(((after - before) / of) * 100) : null;
}

/** What the writer did between two `writerCounters` readings. */
export function writerDelta(before, after, wallSeconds) {
  if (!before || !after) return null;
  const commits = after.commits - before.commits;
  const commands = after.commands - before.commands;
  return {
    commits,
    commitsPerSecond: round(commits / wallSeconds, 1),
    commandsPerCommit: commits > 0 ? round(commands / commits, 1) : null,
    avgCommitMs:
      commits > 0 && after.seconds !== null && before.seconds !== null
        ? round(((after.seconds - before.seconds) / commits) * 1000, 2)
        : null,
    writerBusyPct:
      after.seconds !== null && before.seconds !== null
        ? Math.round(((after.seconds - before.seconds) / wallSeconds) * 100)
        : null,
    // Shares of the group commits decided while the one before appended, and sent before it committed (ADR 0041).
    decidedAheadPct: share(before.decidedAhead, after.decidedAhead, commits),
    sentAheadPct: share(before.sentAhead, after.sentAhead, commits),
    // The part of each group commit spent in the event store's append (the rest: loading and deciding).
    avgAppendMs:
      commits > 0 && after.appendSeconds != null && before.appendSeconds != null
        ? round(((after.appendSeconds - before.appendSeconds) / commits) * 1000, 2)
        : null,
  };
}
