import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigSchema } from '../src/config';

const root = path.resolve(__dirname, '..');
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');

/** The configuration names users depend on (docs/contract.md, "Configuration" and "Auth"). */
const CONTRACT_CONFIG_NAMES = [
  'PORT',
  'DATABASE_URL',
  'LEDGER_DATA_DIR',
  'EVENTSTORE',
  'ESDB_URL',
  'NATS_URL',
  'LEDGER_ROLES',
  'LEDGER_API_KEYS',
  'LEDGER_RATE_LIMIT',
  'FRAUD_MODEL_PATH',
  'ONNX_EXECUTION_PROVIDERS',
  'LOG_LEVEL',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
] as const;

const CONFIG_KEYS = Object.keys(ConfigSchema.shape);

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  ports?: (string | number | { target?: number; published?: string | number })[];
  profiles?: string[];
}

interface Compose {
  services: Record<string, Service>;
}

const compose = parse(read('docker-compose.yml')) as Compose;
const services = compose.services;

/** A service's environment as a map, whichever of the two compose forms it is written in. */
function environment(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((line) => {
        const at = line.indexOf('=');
        return at < 0 ? [line, ''] : [line.slice(0, at), line.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value == null ? '' : String(value)]));
}

function dependsOn(service: Service): Record<string, { condition?: string }> {
  const deps = service.depends_on ?? {};
  return Array.isArray(deps) ? Object.fromEntries(deps.map((name) => [name, {}])) : deps;
}

function build(service: Service): { context: string; dockerfile: string } | undefined {
  if (service.build === undefined) return undefined;
  if (typeof service.build === 'string') return { context: service.build, dockerfile: 'Dockerfile' };
  return { context: service.build.context ?? '.', dockerfile: service.build.dockerfile ?? 'Dockerfile' };
}

/** The services that run this repository's image. */
const ledgerServices = Object.entries(services).filter(([, service]) => build(service) !== undefined);

describe('docker-compose.yml', () => {
  it('is a compose file with the kurrentdb, postgres, nats and ledger services', () => {
    expect(compose).toBeTypeOf('object');
    expect(services).toBeTypeOf('object');
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['kurrentdb', 'postgres', 'nats', 'ledger']));
    for (const [name, service] of Object.entries(services)) {
      expect(service, `service ${name}`).toBeTypeOf('object');
      expect(Boolean(service.image) || service.build !== undefined, `service ${name} has an image or a build`).toBe(
        true,
      );
    }
    expect(services.kurrentdb?.image).toMatch(/kurrentdb|eventstore/);
    expect(services.postgres?.image).toMatch(/^postgres:16/);
    expect(services.nats?.image).toMatch(/^nats:2\.11/);
  });

  it('publishes the ledger on port 3000 and its dependencies on their usual ports', () => {
    const published = (service: Service | undefined) => (service?.ports ?? []).map((port) => String(port));
    expect(published(services.ledger)).toContain('3000:3000');
    expect(published(services.kurrentdb).some((port) => port.endsWith(':2113'))).toBe(true);
    expect(published(services.postgres).some((port) => port.endsWith(':5432'))).toBe(true);
    expect(published(services.nats).some((port) => port.endsWith(':4222'))).toBe(true);
  });

  it('configures the ledger only with the configuration names of docs/contract.md', () => {
    const env = environment(services.ledger!);
    for (const name of Object.keys(env)) expect(CONTRACT_CONFIG_NAMES, `ledger sets ${name}`).toContain(name);
    expect(env.PORT).toBe('3000');
    expect(env.EVENTSTORE).toBe('esdb');
    expect(env).toHaveProperty('LEDGER_API_KEYS');
  });

  it('configures every other ledger service only with names the service reads', () => {
    for (const [name, service] of ledgerServices) {
      for (const key of Object.keys(environment(service))) expect(CONFIG_KEYS, `${name} sets ${key}`).toContain(key);
      const store = environment(service).EVENTSTORE;
      expect(['postgres', 'esdb', undefined], `${name} EVENTSTORE`).toContain(store);
    }
  });

  it('points ESDB_URL at the kurrentdb service, DATABASE_URL at postgres and NATS_URL at nats', () => {
    const env = environment(services.ledger!);
    const esdb = new URL(env.ESDB_URL!);
    expect(esdb.protocol).toBe('esdb:');
    expect(esdb.hostname).toBe('kurrentdb');
    expect(esdb.port).toBe('2113');
    expect(esdb.searchParams.get('tls')).toBe('false');
    const database = new URL(env.DATABASE_URL!);
    expect(database.protocol).toMatch(/^postgres(ql)?:$/);
    expect(database.hostname).toBe('postgres');
    expect(database.pathname).toBe('/ledger');
    expect(environment(services.postgres!).POSTGRES_DB).toBe('ledger');
    const nats = new URL(env.NATS_URL!);
    expect(nats.protocol).toBe('nats:');
    expect(nats.hostname).toBe('nats');
    for (const [name, service] of ledgerServices) {
      for (const key of ['ESDB_URL', 'DATABASE_URL', 'NATS_URL']) {
        const value = environment(service)[key];
        if (value) expect(Object.keys(services), `${name} ${key} host`).toContain(new URL(value).hostname);
      }
    }
  });

  it('runs KurrentDB as an insecure single node without projections', () => {
    const env = environment(services.kurrentdb!);
    expect(env.KURRENTDB_INSECURE).toBe('true');
    expect(env.KURRENTDB_RUN_PROJECTIONS?.toLowerCase()).toBe('none');
    expect(env.KURRENTDB_ENABLE_ATOM_PUB_OVER_HTTP).toBe('true');
  });

  it('enables JetStream on nats', () => {
    const command = services.nats?.command;
    const args = Array.isArray(command) ? command : (command ?? '').split(/\s+/);
    expect(args.some((arg) => arg === '-js' || arg === '--js' || arg === '--jetstream')).toBe(true);
  });

  it('waits for healthy dependencies, and every dependency exists and has a health check', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(dependsOn(service))) {
        expect(Object.keys(services), `${name} depends on ${dependency}`).toContain(dependency);
        expect(condition, `${name} -> ${dependency}`).toBe('service_healthy');
        const check = services[dependency]?.healthcheck;
        expect(check?.test, `${dependency} has a health check`).toBeTruthy();
        expect(check?.disable).not.toBe(true);
      }
    }
    expect(Object.keys(dependsOn(services.ledger!)).sort()).toEqual(['kurrentdb', 'nats', 'postgres']);
  });

  it('has a service running on PostgreSQL alone, outside the default set', () => {
    const postgresOnly = ledgerServices.filter(([, service]) => environment(service).EVENTSTORE === 'postgres');
    expect(postgresOnly.length).toBeGreaterThan(0);
    for (const [name, service] of postgresOnly) {
      expect(service.profiles?.length, `${name} sits behind a profile`).toBeGreaterThan(0);
      expect(Object.keys(dependsOn(service)), `${name} does not need KurrentDB`).not.toContain('kurrentdb');
    }
  });
});

describe('Dockerfile', () => {
  const builds = ledgerServices.map(([, service]) => build(service)!);

  it('exists where the compose file builds it', () => {
    expect(builds.length).toBeGreaterThan(0);
    for (const { context, dockerfile } of builds) {
      expect(existsSync(path.join(root, context, dockerfile)), `${context}/${dockerfile}`).toBe(true);
    }
  });

  const dockerfile = read('Dockerfile');
  const lines = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));

  it('copies .npmrc before npm ci in every stage that runs it', () => {
    let npmrcCopied = false;
    let npmCiRuns = 0;
    for (const line of lines) {
      if (/^FROM\s/i.test(line)) npmrcCopied = false;
      if (/^COPY\s/i.test(line) && !/--from=/.test(line) && /(^|\s)\.npmrc(\s|$)/.test(line)) npmrcCopied = true;
      if (/^RUN\s/i.test(line) && /\bnpm ci\b/.test(line)) {
        npmCiRuns += 1;
        expect(npmrcCopied, line).toBe(true);
      }
    }
    expect(npmCiRuns).toBeGreaterThan(0);
  });

  it('builds on node 20, ships migrations and models, and runs dist/src/main.js as a non-root user', () => {
    const froms = lines.filter((line) => /^FROM\s/i.test(line));
    expect(froms.length).toBeGreaterThan(1);
    expect(dockerfile).toMatch(/node:20-bookworm-slim/);
    expect(lines.some((line) => /^RUN\s.*npm run build/.test(line))).toBe(true);
    const runtime = lines.slice(lines.lastIndexOf(froms[froms.length - 1]!));
    expect(runtime.some((line) => /^COPY\s+migrations\b/.test(line))).toBe(true);
    expect(runtime.some((line) => /^COPY\s+models\b/.test(line))).toBe(true);
    const user = runtime.filter((line) => /^USER\s/i.test(line)).pop();
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER\s+(root|0)(:|$)/i);
    expect(runtime.some((line) => /^HEALTHCHECK\s.*\/health\/live/.test(line))).toBe(true);
    expect(runtime.filter((line) => /^CMD\s/i.test(line)).pop()).toMatch(/dist\/src\/main\.js/);
    expect(statSync(path.join(root, 'models')).isDirectory()).toBe(true);
  });

  it('is not starved by .dockerignore', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim().replace(/^\/|\/$/g, ''))
      .filter((line) => line && !line.startsWith('#'));
    for (const needed of [
      '.npmrc',
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'src',
      'migrations',
      'models',
    ]) {
      expect(ignored, needed).not.toContain(needed);
    }
  });
});

describe('configuration names', () => {
  it('every name docs/contract.md lists is read by src/config.ts', () => {
    for (const name of CONTRACT_CONFIG_NAMES) expect(CONFIG_KEYS, name).toContain(name);
  });

  it('every name src/config.ts reads is documented in docs/configuration.md', () => {
    const readme = read('docs/configuration.md');
    for (const name of CONFIG_KEYS) expect(readme, name).toContain(`\`${name}\``);
  });
});
