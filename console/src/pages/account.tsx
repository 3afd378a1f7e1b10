import { useMemo, useState } from 'preact/hooks';
import { type Account, type Entry, type History, type Page, get } from '../api';
import { money, time } from '../format';
import { HistoryChart, type Series } from '../components/history-chart';
import { Pager, useCursorPages } from '../components/pager';
import { Empty, Loading, ProblemView, useAsync } from '../components/status';
import { href } from '../router';

const enc = encodeURIComponent;

export function AccountPage({ id }: { id: string }) {
  const account = useAsync(() => get<Account>(`/v1/accounts/${enc(id)}`), [id]);
  return (
    <section>
      <p class="crumbs">
        <a href={href.accounts()}>Accounts</a> /
      </p>
      <h1 tabIndex={-1}>{id}</h1>
      {account.state === 'loading' && <Loading what="the account" />}
      {account.state === 'error' && <ProblemView problem={account.error} />}
      {account.state === 'done' && (
        <>
          <Summary account={account.value} />
          <BalanceHistory account={account.value} />
          <Entries id={id} />
        </>
      )}
    </section>
  );
}

function Summary({ account: a }: { account: Account }) {
  const figures: Array<[string, string | undefined]> = [
    ['Balance', a.balance],
    ['Debits posted', a.debitsPosted],
    ['Credits posted', a.creditsPosted],
  ];
  if (a.available !== undefined) {
    figures.push(['Available', a.available], ['Debits held', a.debitsPending], ['Credits held', a.creditsPending]);
  }
  return (
    <>
      <dl class="figures" aria-label="Balances">
        {figures.map(([label, value]) => (
          <div key={label} data-figure={label}>
            <dt>{label}</dt>
            <dd>
              {money(value)} <small>{a.currency}</small>
            </dd>
          </div>
        ))}
      </dl>
      <p class="meta">
        <span class={`badge ${a.status}`}>{a.status}</span> {a.normalSide}-normal · opened {time(a.openedAt)}
        {a.code ? ` · code ${a.code}` : ''}
        {Object.entries(a.metadata).map(([k, v]) => (
          <span key={k} class="tag">
            {k}={v}
          </span>
        ))}
        {a.available === undefined && <span class="hint"> · holds are not reported by this ledger</span>}
        {' · '}
        <a href={href.transfers(a.id)}>Transfers</a>
      </p>
    </>
  );
}

function BalanceHistory({ account }: { account: Account }) {
  const [draft, setDraft] = useState({ from: account.openedAt, to: '', knownAt: '', points: '100' });
  const [chosen, setChosen] = useState(draft);
  const history = useAsync(async () => {
    const base = `/v1/accounts/${enc(account.id)}/balance-history`;
    const params = { from: chosen.from, to: chosen.to, points: chosen.points };
    const current = await get<History>(base, params);
    // The restated line: the same instants as they were known at knownAt.
    const restated = chosen.knownAt
      ? await get<History>(base, { ...params, from: current.from, to: current.to, knownAt: chosen.knownAt })
      : undefined;
    return { current, restated };
  }, [account.id, chosen]);
  const series = useMemo((): Series[] => {
    if (history.state !== 'done') return [];
    const { current, restated } = history.value;
    return [
      { label: 'as known now', history: current, className: 'current' },
      ...(restated
        ? [{ label: `as known at ${time(restated.knownAt)}`, history: restated, className: 'restated' as const }]
        : []),
    ];
  }, [history]);
  const input = (name: keyof typeof draft, label: string, hint: string) => (
    <div>
      <label for={`history-${name}`}>{label}</label>
      <input
        id={`history-${name}`}
        name={name}
        value={draft[name]}
        placeholder={hint}
        inputMode={name === 'points' ? 'numeric' : 'text'}
        onInput={(e) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value.trim() })}
      />
    </div>
  );
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">Balance history</h2>
      <form
        class="filters"
        aria-label="Balance history range"
        onSubmit={(e) => {
          e.preventDefault();
          setChosen(draft);
        }}
      >
        {input('from', 'From (UTC)', '2026-01-01T00:00:00.000Z')}
        {input('to', 'To (UTC)', 'now')}
        {input('points', 'Points', '2–1000')}
        {input('knownAt', 'Also as known at (UTC)', 'e.g. a reporting date')}
        <button type="submit">Draw</button>
      </form>
      {history.state === 'loading' && <Loading what="the balance history" />}
      {history.state === 'error' && <ProblemView problem={history.error} />}
      {history.state === 'done' && (
        <>
          <HistoryChart series={series} currency={account.currency} />
          <details class="points">
            <summary>Figures at each point ({history.value.current.points.length})</summary>
            <div class="table-wrap">
              <table id="history-points">
                <thead>
                  <tr>
                    <th scope="col">At (UTC)</th>
                    <th scope="col" class="num">
                      Balance
                    </th>
                    <th scope="col" class="num">
                      Debits
                    </th>
                    <th scope="col" class="num">
                      Credits
                    </th>
                    {history.value.restated && (
                      <th scope="col" class="num">
                        Balance as known at {time(history.value.restated.knownAt)}
                      </th>
                    )}
                  </tr>
                </thead>
                <tbody>
                  {history.value.current.points.map((p, i) => (
                    <tr key={p.at} data-at={p.at} data-balance={p.balance}>
                      <td>{p.at}</td>
                      <td class="num">{money(p.balance)}</td>
                      <td class="num">{money(p.debitsPosted)}</td>
                      <td class="num">{money(p.creditsPosted)}</td>
                      {history.value.restated && (
                        <td class="num" data-restated={history.value.restated.points[i]?.balance}>
                          {money(history.value.restated.points[i]?.balance)}
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </>
      )}
    </section>
  );
}

function Entries({ id }: { id: string }) {
  const pages = useCursorPages();
  const entries = useAsync(
    () => get<Page<Entry>>(`/v1/accounts/${enc(id)}/entries`, { limit: 20, cursor: pages.cursor }),
    [id, pages.cursor],
  );
  return (
    <section aria-labelledby="entries-title">
      <h2 id="entries-title">Entries</h2>
      {entries.state === 'loading' && <Loading what="entries" />}
      {entries.state === 'error' && <ProblemView problem={entries.error} />}
      {entries.state === 'done' && entries.value.items.length === 0 && <Empty>No entries yet.</Empty>}
      {entries.state === 'done' && entries.value.items.length > 0 && (
        <>
          <div class="table-wrap">
            <table id="entries">
              <thead>
                <tr>
                  <th scope="col">Transfer</th>
                  <th scope="col">Side</th>
                  <th scope="col" class="num">
                    Amount
                  </th>
                  <th scope="col" class="num">
                    Balance after
                  </th>
                  <th scope="col">Effective</th>
                  <th scope="col">Recorded</th>
                </tr>
              </thead>
              <tbody>
                {entries.value.items.map((e) => (
                  <tr key={`${e.transferId}-${e.side}`}>
                    <td>
                      <a href={href.transfer(e.transferId)}>{e.transferId}</a>
                    </td>
                    <td>{e.side}</td>
                    <td class="num">{money(e.amount)}</td>
                    <td class="num">{money(e.balanceAfter)}</td>
                    <td>{time(e.effectiveAt)}</td>
                    <td>{time(e.recordedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager pages={pages} nextCursor={entries.value.nextCursor} label="Entries" />
        </>
      )}
    </section>
  );
}
