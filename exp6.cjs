const { createLedgerApp } = require('./dist/src/app');
const { loadConfig } = require('./dist/src/config');
const { NatsRelay } = require('./dist/src/messaging/relay');
const { advisoryLock } = require('./dist/src/messaging/relay-lock');
const { PipelinedPublisher } = require('./dist/src/messaging/pipelined-publisher');
const pg = require('pg');
(async () => {
  const schema = 'exp_' + process.pid;
  const config = loadConfig({
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
    LEDGER_DB_SCHEMA: schema,
    LEDGER_ROLES: 'api',
    LOG_LEVEL: 'error',
    LEDGER_DB_POOL_MAX: '3',
  });
  const app = await createLedgerApp(config);
  const f = app.app.getHttpAdapter().getInstance();
  for (const id of ['a', 'b', 'c', 'd'])
    await f.inject({ method: 'POST', url: '/v1/accounts', payload: { id, currency: 'USD' } });
  let n = 0;
  for (let r = 0; r < 3; r++) {
    const transfers = Array.from({ length: 8000 }, () => ({
      id: 'x' + n++,
      debitAccountId: 'a',
      creditAccountId: 'b',
      amount: '5',
      currency: 'USD',
    }));
    await f.inject({ method: 'POST', url: '/v1/transfers/batch', payload: { transfers } });
  }
  const store = app.store;
  let t = performance.now();
  const ev = await store.readAll({ after: 0n, limit: 5000 });
  console.log('readAll 5000', Math.round(performance.now() - t), 'ms');
  t = performance.now();
  const ev2 = await store.readAll({ after: 5000n, limit: 5000 });
  console.log('readAll 5000 again', Math.round(performance.now() - t), 'ms');
  const timings = { publish: 0, read: 0 };
  const origPublish = PipelinedPublisher.prototype.publish;
  PipelinedPublisher.prototype.publish = async function (m, to) {
    const s = performance.now();
    try {
      return await origPublish.call(this, m, to);
    } finally {
      timings.publish += performance.now() - s;
    }
  };
  const stream = 'EXP_' + process.pid;
  const relay = new NatsRelay(store, advisoryLock(app.database.db, 'x'), {
    natsUrl: 'nats://127.0.0.1:4222',
    stream: {
      name: stream,
      subjectPrefix: 'exp' + process.pid,
      duplicateWindowMs: 120000,
      maxAgeMs: 0,
      maxBytes: 0,
      maxMsgs: 0,
      replicas: 1,
    },
    batchSizeMax: 5000,
    pollMs: 20,
    ackTimeoutMs: 10000,
    backoffMaxMs: 1000,
  });
  const head = await store.headPosition();
  t = performance.now();
  relay.start();
  while (relay.checkpoint < head) await new Promise((r) => setTimeout(r, 5));
  const total = performance.now() - t;
  console.log(
    'drain',
    Number(head),
    'events in',
    Math.round(total),
    'ms =',
    Math.round((Number(head) / total) * 1000),
    '/s; publish part',
    Math.round(timings.publish),
    'ms',
  );
  await relay.stop();
  await app.close();
  const { connect } = require('@nats-io/transport-node');
  const { jetstreamManager } = require('@nats-io/jetstream');
  const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
  await (await jetstreamManager(nc)).streams.delete(stream);
  await nc.close();
  const p = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
  await p.query(`drop schema ${schema} cascade`);
  await p.end();
})();
