import { useState } from 'preact/hooks';
import { type Account, type Page, type ReplayReport, type Verification, get, post } from '../api';
import { csv, download } from '../download';
import { money, shortHash } from '../format';
import { type HeadCheck, checkedTreeHead, signatureText } from '../components/proof';
import { Loading, ProblemView } from '../components/status';
import { href } from '../router';

/** Accounts replayed per request: each request replays the log for that many accounts. */
const REPLAY_CHUNK = 500;

interface Progress {
  done: number;
  total: number;
}

async function allAccountIds(): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<Account> = await get<Page<Account>>('/v1/accounts', { limit: 1000, cursor });
    ids.push(...page.items.map((a) => a.id));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

export function AuditPage() {
  return (
    <section>
      <h1 tabIndex={-1}>Audit</h1>
      <Replay />
      <Chain />
      <SignedTreeHead />
    </section>
  );
}

function Replay() {
  const now = new Date().toISOString();
  const [asOf, setAsOf] = useState(now);
  const [knownAt, setKnownAt] = useState('');
  const [progress, setProgress] = useState<Progress | null>(null);
  const [report, setReport] = useState<ReplayReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const run = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setReport(null);
    try {
      setProgress({ done: 0, total: 0 });
      const ids = await allAccountIds();
      setProgress({ done: 0, total: ids.length });
      const merged: ReplayReport = { asOf, knownAt: knownAt || '', eventsReplayed: 0, accounts: [], mismatches: 0 };
      for (let at = 0; at < ids.length; at += REPLAY_CHUNK) {
        const chunk = ids.slice(at, at + REPLAY_CHUNK);
        const part = await post<ReplayReport>('/v1/audit/replay', {
          asOf,
          ...(knownAt ? { knownAt } : {}),
          accountIds: chunk,
        });
        merged.knownAt = part.knownAt;
        merged.eventsReplayed = Math.max(merged.eventsReplayed, part.eventsReplayed);
        merged.accounts.push(...part.accounts);
        merged.mismatches += part.mismatches;
        setProgress({ done: at + chunk.length, total: ids.length });
      }
      setReport(merged);
    } catch (problem) {
      setError(problem);
    } finally {
      setProgress(null);
    }
  };
  const busy = progress !== null;
  return (
    <section aria-labelledby="replay-title">
      <h2 id="replay-title">Replay balances from the event store</h2>
      <p class="hint">
        Recomputes every account's balance as of a time, as known at a time, from the events alone, and compares it with
        the read models.
      </p>
      <form class="filters" aria-label="Replay" onSubmit={run}>
        <div>
          <label for="replay-asOf">As of (UTC)</label>
          <input id="replay-asOf" value={asOf} onInput={(e) => setAsOf((e.target as HTMLInputElement).value.trim())} />
        </div>
        <div>
          <label for="replay-knownAt">As known at (UTC)</label>
          <input
            id="replay-knownAt"
            value={knownAt}
            placeholder="now"
            onInput={(e) => setKnownAt((e.target as HTMLInputElement).value.trim())}
          />
        </div>
        <button type="submit" disabled={busy}>
          {busy ? 'Replaying…' : 'Replay'}
        </button>
      </form>
      {progress && (
        <div role="status" aria-live="polite" class="progress">
          <progress max={Math.max(1, progress.total)} value={progress.done} aria-label="Replay progress" />{' '}
          {progress.total === 0 ? 'listing accounts…' : `${progress.done} of ${progress.total} accounts`}
        </div>
      )}
      {error !== null && <ProblemView problem={error} />}
      {report && (
        <div class="report" id="replay-report">
          <p class={report.mismatches === 0 ? 'ok' : 'bad'} role="status">
            <strong data-mismatches={report.mismatches}>
              {report.mismatches === 0 ? 'Every balance matches' : `${report.mismatches} mismatch(es)`}
            </strong>{' '}
            · {report.accounts.length} accounts · {report.eventsReplayed} events replayed · as of {report.asOf} as known
            at {report.knownAt}
          </p>
          <div class="actions">
            <button
              type="button"
              onClick={() =>
                download(`replay-${report.asOf}.json`, 'application/json', JSON.stringify(report, null, 2))
              }
            >
              Export report (JSON)
            </button>
            <button
              type="button"
              onClick={() => download(`replay-${report.asOf}.csv`, 'text/csv', csv(report.accounts))}
            >
              Export report (CSV)
            </button>
          </div>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Account</th>
                  <th scope="col" class="num">
                    Replayed balance
                  </th>
                  <th scope="col" class="num">
                    Read model
                  </th>
                  <th scope="col">Matches</th>
                </tr>
              </thead>
              <tbody>
                {report.accounts.slice(0, 200).map((a) => (
                  <tr key={a.accountId} class={a.matches ? '' : 'bad'}>
                    <td>
                      <a href={href.account(a.accountId)}>{a.accountId}</a>
                    </td>
                    <td class="num">
                      {money(a.balance)} <small>{a.currency}</small>
                    </td>
                    <td class="num">{money(a.readModelBalance ?? undefined)}</td>
                    <td>{a.matches ? 'yes' : 'NO'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {report.accounts.length > 200 && <p class="hint">First 200 accounts shown; the export has them all.</p>}
        </div>
      )}
    </section>
  );
}

function Chain() {
  const [state, setState] = useState<
    { kind: 'idle' } | { kind: 'busy' } | { kind: 'done'; result: Verification } | { kind: 'error'; error: unknown }
  >({ kind: 'idle' });
  const [downloadError, setDownloadError] = useState<unknown>(null);
  const verify = async () => {
    setState({ kind: 'busy' });
    try {
      setState({ kind: 'done', result: await get<Verification>('/v1/audit/verify') });
    } catch (error) {
      setState({ kind: 'error', error });
    }
  };
  const save = async (path: string, name: string) => {
    setDownloadError(null);
    try {
      download(name, 'application/json', JSON.stringify(await get<unknown>(path), null, 2));
    } catch (error) {
      setDownloadError(error);
    }
  };
  return (
    <section aria-labelledby="chain-title">
      <h2 id="chain-title">Hash chain</h2>
      <div class="actions">
        <button type="button" onClick={verify} disabled={state.kind === 'busy'}>
          Verify the chain
        </button>
        <button type="button" onClick={() => save('/v1/audit/digest', 'ledger-digest.json')}>
          Download signed digest
        </button>
        <button type="button" onClick={() => save('/v1/audit/public-key', 'ledger-public-key.json')}>
          Download public key
        </button>
      </div>
      {downloadError !== null && <ProblemView problem={downloadError} />}
      {state.kind === 'busy' && <Loading what="the chain walk" />}
      {state.kind === 'error' && <ProblemView problem={state.error} />}
      {state.kind === 'done' && (
        <p class={state.result.intact ? 'ok' : 'bad'} role="status" id="chain-result">
          <strong>{state.result.intact ? 'Intact' : 'Broken'}</strong> · {state.result.eventsChecked} events checked ·
          head {state.result.head.position} <code>{shortHash(state.result.head.hash)}</code>
          {state.result.firstBroken &&
            ` · first break at ${state.result.firstBroken.position}: ${state.result.firstBroken.reason} (${state.result.firstBroken.detail})`}
        </p>
      )}
    </section>
  );
}

function SignedTreeHead() {
  const [state, setState] = useState<
    { kind: 'idle' } | { kind: 'busy' } | { kind: 'done'; check: HeadCheck } | { kind: 'error'; error: unknown }
  >({ kind: 'idle' });
  const fetchHead = async () => {
    setState({ kind: 'busy' });
    try {
      setState({ kind: 'done', check: await checkedTreeHead() });
    } catch (error) {
      setState({ kind: 'error', error });
    }
  };
  return (
    <section aria-labelledby="tree-title">
      <h2 id="tree-title">Signed tree head (RFC 9162)</h2>
      <p class="hint">
        The log as a Merkle tree: its root, signed. Prove a single event from its transfer's page; check the whole log
        offline with the CLI.
      </p>
      <div class="actions">
        <button type="button" onClick={fetchHead} disabled={state.kind === 'busy'}>
          Fetch and check the tree head
        </button>
        {state.kind === 'done' && (
          <button
            type="button"
            onClick={() =>
              download(
                `tree-head-${state.check.head.treeSize}.json`,
                'application/json',
                JSON.stringify(state.check.head, null, 2),
              )
            }
          >
            Download tree head
          </button>
        )}
      </div>
      {state.kind === 'busy' && <Loading what="the tree head" />}
      {state.kind === 'error' && <ProblemView problem={state.error} />}
      {state.kind === 'done' && (
        <p id="tree-head" class={state.check.signature === false ? 'bad' : 'ok'} role="status">
          <strong>{state.check.head.treeSize} events</strong> · root{' '}
          <code title={state.check.head.rootHash}>{shortHash(state.check.head.rootHash)}</code> · key{' '}
          {state.check.head.keyId} · signed {state.check.head.signedAt} · {signatureText(state.check.signature)}
        </p>
      )}
    </section>
  );
}
