/**
 * Imported first by src/main.ts, before `http` and `pg` load, so OpenTelemetry can instrument
 * them when it exports. It reads the one setting it needs straight from the environment (the configuration is
 * validated afterwards, in main).
 */
import { startTracing } from './tracing';

const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined;
// The HTTP and pg instrumentations hook every `require` (module loading gets ~40% slower) and add
// work to each request and query: only worth it when the spans go somewhere. Without them, the
// request hook still starts each request's span from the caller's traceparent.
startTracing({ endpoint, instrument: endpoint !== undefined });
