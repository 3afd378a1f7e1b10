/**
 * Imported first by src/main.ts, before `http` and `pg` load, so OpenTelemetry can instrument
 * them when it exports. It reads the one setting it needs straight from the environment (the configuration is
 * validated afterwards, in main).
 */
import { parseInstrumentations, startTracing } from './tracing';

const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined;
// The HTTP and pg instrumentations hook every `require` and add work to each request and query:
// measured at a 16% drop of the write path with them against about 4% without (bench:ops, 10 paired rounds). They are
// opt-in (LEDGER_OTEL_INSTRUMENTATIONS=http,pg) and only when exporting. Without them our own spans
// (request, write batch, decide, append, project) are still exported, and the request hook still
// continues the caller's traceparent into the events.
startTracing({
  endpoint,
  instrumentations: endpoint ? parseInstrumentations(process.env.LEDGER_OTEL_INSTRUMENTATIONS) : [],
});
