import {
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  SpanKind,
  ROOT_CONTEXT,
  SpanStatusCode,
  context,
  isSpanContextValid,
  propagation,
  trace,
} from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';

/**
 * OpenTelemetry for the whole process (ADR 0012). A tracer provider is always registered, so every
 * request and every event carries a real trace context (`traceparent` in the events' metadata);
 * spans are recorded and exported only when something wants them: an OTLP endpoint
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`), a sampled parent from the caller, or a listener in a test.
 *
 * Others call `withSpan(name, fn)` for their own work (publish, score) and `contextFromTraceparent`
 * to continue a trace carried in an event's metadata.
 */

const TRACER_NAME = 'ledger';
let provider: NodeTracerProvider | undefined;
let exporting = false;
const listeners = new Set<(span: ReadableSpan) => void>();

/** Records every span while spans are exported or listened to; otherwise only under a sampled parent. */
class LedgerSampler implements Sampler {
  private readonly on = new ParentBasedSampler({ root: new AlwaysOnSampler() });
  private readonly off = new ParentBasedSampler({ root: new AlwaysOffSampler() });
  shouldSample(...args: Parameters<Sampler['shouldSample']>) {
    return (exporting || listeners.size > 0 ? this.on : this.off).shouldSample(...args);
  }
  toString(): string {
    return 'LedgerSampler';
  }
}

class ListenerProcessor implements SpanProcessor {
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    for (const listener of listeners) listener(span);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export const AUTO_INSTRUMENTATIONS = ['http', 'pg'] as const;
export type AutoInstrumentation = (typeof AUTO_INSTRUMENTATIONS)[number];

/** `LEDGER_OTEL_INSTRUMENTATIONS`: a comma-separated subset of http,pg; anything else is ignored. */
export const parseInstrumentations = (value: string | undefined): AutoInstrumentation[] =>
  (value ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name): name is AutoInstrumentation => (AUTO_INSTRUMENTATIONS as readonly string[]).includes(name));

export interface TracingOptions {
  /** OTLP/HTTP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`); traces go to `<endpoint>/v1/traces`. Unset: no export. */
  readonly endpoint?: string;
  /**
   * Automatic spans from OpenTelemetry's instrumentations: `http` (every incoming request at the
   * socket level) and `pg` (every query); only where modules are loaded after this. Off unless named.
   */
  readonly instrumentations?: readonly AutoInstrumentation[];
  readonly serviceVersion?: string;
}

/**
 * Registers the process's tracer provider; the first call in a process wins (later ones return).
 * The service calls it before anything else loads (src/platform/tracing-preload.ts), so `http`
 * and `pg` are instrumented; in-process test apps get our own spans only.
 */
export function startTracing(options: TracingOptions = {}): void {
  if (provider) return;
  const processors: SpanProcessor[] = [new ListenerProcessor()];
  if (options.endpoint) {
    // Loaded only when exporting: the exporter brings protobuf and an HTTP client along.
    const { OTLPTraceExporter } =
      require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
    const url = `${options.endpoint.replace(/\/+$/, '')}/v1/traces`;
    processors.push(
      new BatchSpanProcessor(new OTLPTraceExporter({ url }), { maxQueueSize: 8192, maxExportBatchSize: 1024 }),
    );
    exporting = true;
  }
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'ledger',
      'service.version': options.serviceVersion ?? '0.0.0',
    }),
    sampler: new LedgerSampler(),
    spanProcessors: processors,
  });
  // A test runner may have registered another copy of this module's provider before: replace it.
  trace.disable();
  context.disable();
  // The async-local context manager makes Node track every promise (async_hooks on Node 20): the
  // write path measured at under half its throughput with it. Only the instrumentations need it;
  // our own spans pass their parents explicitly (withSpan hands the child context to `fn`).
  const wanted = new Set(options.instrumentations ?? []);
  provider.register(wanted.size > 0 ? {} : { contextManager: null });
  if (wanted.size > 0) {
    const { registerInstrumentations } =
      require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
    const { HttpInstrumentation } =
      require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
    const { PgInstrumentation } =
      require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
    const instrumentations: Instrumentation[] = [
      ...(wanted.has('http')
        ? [
            new HttpInstrumentation({
              // Probes and scrapes are not worth a trace each.
              ignoreIncomingRequestHook: (request) => /^\/(health|metrics)(\/|\?|$)/.test(request.url ?? ''),
            }),
          ]
        : []),
      ...(wanted.has('pg') ? [new PgInstrumentation({ requireParentSpan: true })] : []),
    ];
    registerInstrumentations({ tracerProvider: provider, instrumentations });
  }
}

/** Sends what is buffered and stops exporting (at shutdown). */
export async function stopTracing(): Promise<void> {
  await provider?.shutdown().catch(() => {});
}

/** Calls `listener` with every span that ends (and records every span meanwhile); returns the unsubscribe. */
export function onSpanEnd(listener: (span: ReadableSpan) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export const tracer = () => trace.getTracer(TRACER_NAME);

export interface SpanOptions {
  readonly attributes?: Attributes;
  readonly links?: Link[];
  readonly kind?: SpanKind;
  /** Parent other than the active context (e.g. `contextFromTraceparent(event.metadata.traceparent)`). */
  readonly parent?: Context;
}

/**
 * Runs `fn` in a span named `name`, ends it when `fn` settles, and records an exception as the
 * span's error. `fn` gets the span and the context it is in: pass that as `parent` to child spans.
 * (The span is also the active one inside `fn` when a context manager is registered, i.e. when
 * exporting, so PostgreSQL spans nest under it.)
 */
export async function withSpan<T>(
  name: string,
  fn: (span: Span, spanContext: Context) => Promise<T> | T,
  options: SpanOptions = {},
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
      ...(options.links ? { links: options.links } : {}),
    },
    parent,
  );
  try {
    const inSpan = trace.setSpan(parent, span);
    return await context.with(inSpan, () => fn(span, inSpan));
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}

/** W3C `traceparent` of a span context. */
export const traceparentOf = (spanContext: SpanContext): string =>
  `00-${spanContext.traceId}-${spanContext.spanId}-${(spanContext.traceFlags & 0xff).toString(16).padStart(2, '0')}`;

/** The `traceparent` of the active span, if there is one (what an event's metadata should carry). */
export function currentTraceparent(active: Context = context.active()): string | undefined {
  const spanContext = trace.getSpanContext(active);
  return spanContext && isSpanContextValid(spanContext) ? traceparentOf(spanContext) : undefined;
}

/** A context whose parent is the trace in `traceparent` (from an event's metadata or a header); the active one if absent or malformed. */
export function contextFromTraceparent(traceparent: string | undefined, base: Context = context.active()): Context {
  if (!traceparent) return base;
  return propagation.extract(
    base,
    { traceparent },
    { get: (carrier, key) => carrier[key as 'traceparent'], keys: () => ['traceparent'] },
  );
}

/** A span link to the trace in `traceparent` (a batch span links to the requests it carries). */
export function linkFromTraceparent(traceparent: string | undefined): Link | undefined {
  if (!traceparent) return undefined;
  const spanContext = trace.getSpanContext(contextFromTraceparent(traceparent, ROOT_CONTEXT));
  return spanContext && isSpanContextValid(spanContext) ? { context: spanContext } : undefined;
}
