import { useState } from 'preact/hooks';
import { type Page, type RecordedEvent, type Transfer, get } from '../api';
import { type InclusionCheck, checkInclusion, signatureText } from '../components/proof';
import { canVerify } from '../merkle';
import { money, shortHash, time } from '../format';
import { Pager, useCursorPages } from '../components/pager';
import { Empty, Loading, ProblemView, useAsync } from '../components/status';
import { href } from '../router';

const enc = encodeURIComponent;

export function TransferPage({ id }: { id: string }) {
  const transfer = useAsync(() => get<Transfer>(`/v1/transfers/${enc(id)}`), [id]);
  return (
    <section>
      <p class="crumbs">
        <a href={href.transfers()}>Transfers</a> /
      </p>
      <h1 tabIndex={-1}>{id}</h1>
      {transfer.state === 'loading' && <Loading what="the transfer" />}
      {transfer.state === 'error' && <ProblemView problem={transfer.error} />}
      {transfer.state === 'done' && (
        <>
          <Details transfer={transfer.value} />
          <Events id={id} />
        </>
      )}
    </section>
  );
}

function Details({ transfer: t }: { transfer: Transfer }) {
  const rows: Array<[string, preact.ComponentChild]> = [
    ['Status', <span class={`badge ${t.status}`}>{t.status}</span>],
    ['Amount', `${money(t.amount)} ${t.currency}`],
    ['Debit', <a href={href.account(t.debitAccountId)}>{t.debitAccountId}</a>],
    ['Credit', <a href={href.account(t.creditAccountId)}>{t.creditAccountId}</a>],
    ['Effective', time(t.effectiveAt)],
    ['Recorded', time(t.recordedAt)],
    ['Position', t.position],
  ];
  // Holds and reversals (contract v2): shown when the ledger reports them.
  if (t.pendingAmount !== undefined) rows.push(['Still held', money(t.pendingAmount)]);
  if (t.postedAmount !== undefined) rows.push(['Posted so far', money(t.postedAmount)]);
  if (t.expiresAt !== undefined) rows.push(['Hold expires', time(t.expiresAt)]);
  if (t.reversedAmount !== undefined) rows.push(['Reversed', money(t.reversedAmount)]);
  if (t.reverses !== undefined) rows.push(['Reverses', <a href={href.transfer(t.reverses)}>{t.reverses}</a>]);
  if (t.code) rows.push(['Code', t.code]);
  if (t.reference) rows.push(['Reference', t.reference]);
  for (const [k, v] of Object.entries(t.metadata)) rows.push([`metadata.${k}`, v]);
  return (
    <>
      <dl class="facts">
        {rows.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <section aria-labelledby="risk-title">
        <h2 id="risk-title">Risk</h2>
        {t.risk ? (
          <dl class="facts">
            <div>
              <dt>Score</dt>
              <dd>
                <meter min={0} max={1} value={t.risk.score} aria-label="fraud score" /> {t.risk.score.toFixed(3)}
              </dd>
            </div>
            <div>
              <dt>Decision</dt>
              <dd>
                <span class={`badge ${t.risk.decision}`}>{t.risk.decision}</span>
              </dd>
            </div>
            <div>
              <dt>Model</dt>
              <dd>{t.risk.modelVersion}</dd>
            </div>
            <div>
              <dt>Scored</dt>
              <dd>{time(t.risk.scoredAt)}</dd>
            </div>
          </dl>
        ) : (
          <Empty>Not scored (yet): the fraud role scores transfers after they post.</Empty>
        )}
      </section>
    </>
  );
}

type ProofState =
  | { kind: 'idle' }
  | { kind: 'busy'; position: string }
  | { kind: 'done'; check: InclusionCheck }
  | { kind: 'error'; error: unknown };

function ProofResult({ state }: { state: ProofState }) {
  if (state.kind === 'idle') return null;
  if (state.kind === 'busy') return <Loading what={`the proof for position ${state.position}`} />;
  if (state.kind === 'error') return <ProblemView problem={state.error} />;
  const { check } = state;
  const ok = check.leafMatches && check.rootMatches && check.head.signature !== false;
  return (
    <p id="proof-result" class={ok ? 'ok' : 'bad'} role="status" data-verified={String(ok)}>
      <strong>{ok ? 'Included' : 'NOT PROVEN'}</strong> · leaf {check.proof.leafIndex} of the signed tree of{' '}
      {check.head.head.treeSize} events (root{' '}
      <code title={check.head.head.rootHash}>{shortHash(check.head.head.rootHash)}</code>, key {check.head.head.keyId},
      signed {time(check.head.head.signedAt)}) · leaf hash {check.leafMatches ? 'recomputed' : 'DIFFERS'} · path of{' '}
      {check.proof.auditPath.length} hashes {check.rootMatches ? 'leads to the root' : 'DOES NOT lead to the root'} ·{' '}
      {signatureText(check.head.signature)}
    </p>
  );
}

function Events({ id }: { id: string }) {
  const pages = useCursorPages();
  const [proof, setProof] = useState<ProofState>({ kind: 'idle' });
  const prove = async (position: string) => {
    setProof({ kind: 'busy', position });
    try {
      setProof({ kind: 'done', check: await checkInclusion(position) });
    } catch (error) {
      setProof({ kind: 'error', error });
    }
  };
  const events = useAsync(
    () => get<Page<RecordedEvent>>(`/v1/transfers/${enc(id)}/events`, { limit: 50, cursor: pages.cursor }),
    [id, pages.cursor],
  );
  return (
    <section aria-labelledby="events-title">
      <h2 id="events-title">Events and hashes</h2>
      <p class="hint">
        What the event store recorded about this transfer (its life: pending, posts, void, expiry, reversals), each
        chained to the event before it in the log.
      </p>
      {events.state === 'loading' && <Loading what="events" />}
      {events.state === 'error' && <ProblemView problem={events.error} />}
      {events.state === 'done' && events.value.items.length === 0 && <Empty>No events.</Empty>}
      {events.state === 'done' && events.value.items.length > 0 && (
        <>
          <div class="table-wrap">
            <table id="events">
              <thead>
                <tr>
                  <th scope="col">Position</th>
                  <th scope="col">Event</th>
                  <th scope="col">Recorded</th>
                  <th scope="col">Hash</th>
                  <th scope="col">Previous hash</th>
                  <th scope="col">Data</th>
                  <th scope="col">Proof</th>
                </tr>
              </thead>
              <tbody>
                {events.value.items.map((e) => (
                  <tr key={e.position}>
                    <td>{e.position}</td>
                    <td>{e.type}</td>
                    <td>{time(e.recordedAt)}</td>
                    <td>
                      <code title={e.hash}>{shortHash(e.hash)}</code>
                    </td>
                    <td>
                      <code title={e.prevHash}>{shortHash(e.prevHash)}</code>
                    </td>
                    <td>
                      <details>
                        <summary>data</summary>
                        <pre>{JSON.stringify(e.data, null, 2)}</pre>
                      </details>
                    </td>
                    <td>
                      <button
                        type="button"
                        disabled={!canVerify() || proof.kind === 'busy'}
                        aria-label={`Prove event ${e.position} is in the signed log`}
                        onClick={() => prove(e.position)}
                      >
                        Prove
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager pages={pages} nextCursor={events.value.nextCursor} label="Events" />
          <ProofResult state={proof} />
          {!canVerify() && <p class="hint">Proofs are checked with WebCrypto, which needs https or localhost.</p>}
        </>
      )}
    </section>
  );
}
