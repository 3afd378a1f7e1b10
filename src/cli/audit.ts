import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { ChainVerifier } from '../audit/chain-verifier';
import { digestProblem, type ChainDigest } from '../audit/digest';
import { type ReplayReport, NotCaughtUpError, UnknownAccountsError, replayAndCompare } from '../audit/replay';
import { AUDIT_PAGE_SIZE } from '../audit/auditor';
import { latestTreeHeadWithin } from '../audit/log-proofs';
import { loadConfig } from '../config';
import { PostgresEventStore } from '../eventstore/postgres-event-store';
import { openDatabase } from '../platform/database';
import { migrate } from '../platform/migrations';
import { CatchUp } from '../projections/catch-up';
import { ReadModels } from '../projections/queries';
import { ProgressBar } from './progress';
import { StatementUsageError, statementCommand } from './audit-statement';
import {
  ProofUsageError,
  consistencyCommand,
  exportedLink,
  inclusionCommand,
  readPublicKeys,
  verifyTreeCommand,
} from './audit-proofs';

const USAGE = `usage: npm run audit -- <command> [options]

  replay --as-of <T> [--known-at <K>] [--accounts a,b,…] [--out report.csv] [--format csv|json]
      Balances at T as known at K (default: now), replayed from the event store alone and compared
      with the read models. CSV (default, or from --out's extension) or JSON, to --out or stdout.
      Exit status 1 when any account does not match.
  export --out <ledger.jsonl> [--digest-out <digest.json>] [--tree-head-out <head.json>]
      Every event of the log, one JSON object per line, with its prevHash and hash; --digest-out
      and --tree-head-out also write the latest digest and tree head the service signed within it.
  verify --in <ledger.jsonl> --public-key <key.pem|key.json> --digest <digest.json> [--format text|json]
      Offline: checks the digest's signature with the public key, re-walks the export's hash chain,
      and checks the event the digest names has the signed hash. Exit status 1 if anything fails.
      --public-key also takes the list of GET /v1/audit/public-keys (the digest's keyId picks the key).
  statement --account <id> --from <T> --to <T> [--known-at <K>] [--format csv|json] --out <file>
      The statement GET /v1/accounts/{id}/statement answers (opening balance, every entry,
      closing balance as known at K), with the smallest signed tree head that covers it.
  verify-tree --in <ledger.jsonl> --tree-head <head.json> --public-keys <keys.json>
      Offline: checks the tree head's signature, walks the export's hash chain and rebuilds the
      RFC 9162 Merkle root of its first treeSize events, which must be the signed root.
  inclusion --proof <proof.json> --tree-head <head.json> --public-keys <keys.json>
      Offline: an inclusion proof (GET /v1/audit/proofs/inclusion) leads from the event's bytes to
      the signed root.
  consistency --proof <proof.json> --from <head.json> --to <head.json> --public-keys <keys.json>
      Offline: a consistency proof (GET /v1/audit/proofs/consistency) shows the later signed tree
      extends the earlier one: no event the earlier head covers was changed.

The database is the service's: DATABASE_URL, LEDGER_DB_SCHEMA (or LEDGER_DATA_DIR for the embedded one).`;

class UsageError extends Error {}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
function timestamp(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (!TIMESTAMP.test(value) || Number.isNaN(Date.parse(value)) || new Date(value).toISOString() !== value) {
    throw new UsageError(`${name} must be a UTC timestamp like 2026-09-30T23:59:59.999Z, not ${value}`);
  }
  return value;
}

const csvField = (value: string | number | boolean | null): string => {
  const text = value === null ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

export function replayCsv(report: ReplayReport): string {
  const header = [
    'accountId',
    'currency',
    'balance',
    'debitsPosted',
    'creditsPosted',
    'readModelBalance',
    'matches',
    'asOf',
    'knownAt',
  ];
  const rows = report.accounts.map((a) =>
    [
      a.accountId,
      a.currency,
      a.balance,
      a.debitsPosted,
      a.creditsPosted,
      a.readModelBalance,
      a.matches,
      report.asOf,
      report.knownAt,
    ]
      .map(csvField)
      .join(','),
  );
  return `${[header.join(','), ...rows].join('\r\n')}\r\n`;
}

async function withDatabase<T>(run: (database: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
  const config = loadConfig({ LEDGER_DB_POOL_MAX: '3', ...process.env });
  const database = await openDatabase(config);
  try {
    await migrate(database);
    return await run(database);
  } finally {
    await database.close();
  }
}

async function replay(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'as-of': { type: 'string' },
      'known-at': { type: 'string' },
      accounts: { type: 'string' },
      out: { type: 'string' },
      format: { type: 'string' },
    },
  });
  const asOf = timestamp(values['as-of'], '--as-of');
  if (!asOf) throw new UsageError('replay needs --as-of');
  const knownAt = timestamp(values['known-at'], '--known-at') ?? new Date().toISOString();
  const format = values.format ?? (values.out?.endsWith('.json') ? 'json' : 'csv');
  if (format !== 'csv' && format !== 'json') throw new UsageError(`--format is csv or json, not ${format}`);
  const accountIds = values.accounts
    ?.split(',')
    .map((id) => id.trim())
    .filter(Boolean);

  return withDatabase(async (database) => {
    const store = new PostgresEventStore(database.db);
    const readModels = new ReadModels(database.db);
    const catchUp = new CatchUp(readModels, undefined, 30_000);
    const bar = new ProgressBar('replay');
    let last = { eventsReplayed: 0, head: 0n };
    console.error(`replaying ${database.description} at asOf ${asOf}, knownAt ${knownAt}`);
    const report = await replayAndCompare(
      store,
      { asOf, knownAt, ...(accountIds?.length ? { accountIds } : {}) },
      {
        pageSize: AUDIT_PAGE_SIZE,
        readModelBalance: (id, t, k) => readModels.balanceAt(id, t, k),
        waitForReadModels: (position) => catchUp.waitFor(position),
        onProgress: (p) => {
          last = p;
          bar.update(p.position, p.head);
        },
      },
    );
    bar.done(last.eventsReplayed, last.head);
    const text = format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : replayCsv(report);
    if (values.out) writeFileSync(values.out, text);
    else process.stdout.write(text);
    console.error(
      `${report.eventsReplayed} events replayed, ${report.accounts.length} accounts, ${report.mismatches} mismatch(es)${values.out ? `; report in ${values.out}` : ''}`,
    );
    return report.mismatches > 0 ? 1 : 0;
  });
}

async function exportLog(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { out: { type: 'string' }, 'digest-out': { type: 'string' }, 'tree-head-out': { type: 'string' } },
  });
  if (!values.out) throw new UsageError('export needs --out <file.jsonl>');
  return withDatabase(async (database) => {
    const store = new PostgresEventStore(database.db);
    const head = await store.chainHead();
    const out = createWriteStream(values.out!);
    const bar = new ProgressBar('export');
    let written = 0;
    let after = 0n;
    for (;;) {
      const page = (await store.readChain({ after, limit: AUDIT_PAGE_SIZE })).filter(
        (link) => link.position <= head.position,
      );
      if (page.length === 0) break;
      for (const link of page) {
        // data and metadata are spliced in as the exact canonical text that was hashed.
        const line =
          `{"position":${JSON.stringify(link.position.toString())},"eventId":${JSON.stringify(link.eventId)},` +
          `"streamId":${JSON.stringify(link.streamId)},"revision":${JSON.stringify(link.revision.toString())},` +
          `"type":${JSON.stringify(link.type)},"recordedAt":${JSON.stringify(link.recordedAt)},` +
          `"data":${link.dataJson},"metadata":${link.metadataJson},"prevHash":"${link.prevHash}","hash":"${link.hash}"}\n`;
        if (!out.write(line)) await once(out, 'drain');
      }
      written += page.length;
      after = page.at(-1)!.position;
      bar.update(after, head.position);
    }
    out.end();
    await once(out, 'finish');
    bar.done(after, head.position);
    console.error(`${written} events exported to ${values.out} (head position ${head.position}, hash ${head.hash})`);
    if (values['digest-out']) {
      const rows = await sql<{ digest: string }>`
        select digest::text as digest from audit_digests where position <= ${after.toString()}::bigint
        order by position desc, created_at desc limit 1`.execute(database.db);
      if (!rows.rows[0]) {
        console.error('no signed digest within the export yet: get one with GET /v1/audit/digest');
        return 1;
      }
      writeFileSync(values['digest-out'], `${JSON.stringify(JSON.parse(rows.rows[0].digest), null, 2)}\n`);
      console.error(`latest signed digest within the export written to ${values['digest-out']}`);
    }
    if (values['tree-head-out']) {
      const head = await latestTreeHeadWithin(database.db, after);
      if (!head) {
        console.error('no signed tree head within the export yet: get one with GET /v1/audit/tree-head');
        return 1;
      }
      writeFileSync(values['tree-head-out'], `${JSON.stringify(head, null, 2)}\n`);
      console.error(
        `latest signed tree head within the export (${head.treeSize} events) written to ${values['tree-head-out']}`,
      );
    }
    return 0;
  });
}

function readPublicKey(file: string): string | Map<string, string> {
  const text = readFileSync(file, 'utf8');
  if (text.trimStart().startsWith('{')) {
    const parsed = JSON.parse(text) as { publicKey?: unknown; keys?: unknown };
    if (Array.isArray(parsed.keys)) return readPublicKeys(file);
    if (typeof parsed.publicKey !== 'string') throw new UsageError(`${file} is JSON without a publicKey field`);
    return parsed.publicKey;
  }
  return text;
}

async function verifyExport(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      in: { type: 'string' },
      'public-key': { type: 'string' },
      digest: { type: 'string' },
      format: { type: 'string' },
    },
  });
  if (!values.in || !values['public-key'] || !values.digest)
    throw new UsageError('verify needs --in, --public-key and --digest');
  const format = values.format ?? 'text';
  const publicKey = readPublicKey(values['public-key']);
  let digest: ChainDigest;
  try {
    digest = JSON.parse(readFileSync(values.digest, 'utf8')) as ChainDigest;
  } catch (error) {
    throw new UsageError(`${values.digest} is not JSON: ${error instanceof Error ? error.message : error}`);
  }
  const refused = digestProblem(digest, publicKey);
  if (refused) {
    const result = { intact: false, digest: { accepted: false, reason: refused } };
    if (format === 'json') process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else console.log(`DIGEST REFUSED: ${refused}`);
    return 1;
  }
  const verifier = new ChainVerifier();
  verifier.pin(BigInt(digest.position), digest.hash);
  const bar = new ProgressBar('verify');
  const lines = createInterface({ input: createReadStream(values.in), crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    try {
      verifier.push(exportedLink(line));
    } catch (error) {
      throw new UsageError(
        `${values.in} line ${lineNumber} is not an exported event: ${error instanceof Error ? error.message : error}`,
      );
    }
    bar.update(lineNumber, BigInt(digest.position) > BigInt(lineNumber) ? BigInt(digest.position) : lineNumber);
  }
  const report = verifier.finish();
  bar.done(report.eventsChecked, report.eventsChecked);
  const result = {
    ...report,
    digest: {
      accepted: true,
      keyId: digest.keyId,
      position: digest.position,
      hash: digest.hash,
      signedAt: digest.signedAt,
    },
  };
  if (format === 'json') process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else if (report.intact) {
    console.log(
      `OK: ${report.eventsChecked} events chain from genesis to position ${report.last.position} (hash ${report.last.hash});`,
    );
    console.log(`the digest signed by key ${digest.keyId} at ${digest.signedAt} matches event ${digest.position}.`);
  } else {
    console.log(`BROKEN: ${report.breaks.length} problem(s) in ${report.eventsChecked} events; the first:`);
    for (const b of report.breaks)
      console.log(`  position ${b.position}${b.eventId ? ` (event ${b.eventId})` : ''}: ${b.reason}: ${b.detail}`);
  }
  return report.intact ? 0 : 1;
}

async function main(): Promise<number> {
  const [command, ...args] = process.argv.slice(2);
  try {
    switch (command) {
      case 'replay':
        return await replay(args);
      case 'export':
        return await exportLog(args);
      case 'verify':
        return await verifyExport(args);
      case 'statement':
        return await statementCommand(args, withDatabase);
      case 'verify-tree':
        return await verifyTreeCommand(args);
      case 'inclusion':
        return inclusionCommand(args);
      case 'consistency':
        return consistencyCommand(args);
      default:
        console.error(command ? `unknown command ${command}\n\n${USAGE}` : USAGE);
        return 2;
    }
  } catch (error) {
    if (
      error instanceof UsageError ||
      error instanceof ProofUsageError ||
      error instanceof StatementUsageError ||
      (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      console.error(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof UnknownAccountsError || error instanceof NotCaughtUpError) {
      console.error(
        `replay refused: ${error.message}${error instanceof NotCaughtUpError ? ' (is a projector running?)' : ''}`,
      );
      return 1;
    }
    throw error;
  }
}

if (require.main === module) {
  // exitCode, not exit(): a report piped to stdout must be flushed whole before the process ends.
  main().then(
    (code) => (process.exitCode = code),
    (error) => {
      console.error('audit failed:', error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  );
}
