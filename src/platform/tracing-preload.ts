/**
 * Imported first by src/main.ts, before `http` and `pg` load, so OpenTelemetry can instrument
 * them. It reads the one setting it needs straight from the environment (the configuration is
 * validated afterwards, in main).
 */
import { startTracing } from './tracing';

startTracing({ endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined, instrument: true });
