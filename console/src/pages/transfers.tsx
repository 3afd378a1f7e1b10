import { useState } from 'preact/hooks';
import { type Page, type Transfer, get } from '../api';
import { money, time } from '../format';
import { Pager, metadataParams, useCursorPages } from '../components/pager';
import { Empty, Loading, ProblemView, useAsync } from '../components/status';
import { href } from '../router';

interface Filters {
  accountId: string;
  status: string;
  from: string;
  to: string;
  metadata: string;
}

export function TransfersPage({ accountId = '' }: { accountId?: string | undefined }) {
  const initial: Filters = { accountId, status: '', from: '', to: '', metadata: '' };
  const [draft, setDraft] = useState<Filters>(initial);
  const [filters, setFilters] = useState<Filters>(initial);
  const [lookup, setLookup] = useState('');
  const pages = useCursorPages();
  const result = useAsync(
    () =>
      get<Page<Transfer>>('/v1/transfers', {
        limit: 25,
        cursor: pages.cursor,
        accountId: filters.accountId,
        status: filters.status,
        from: filters.from,
        to: filters.to,
        ...metadataParams(filters.metadata),
      }),
    [filters, pages.cursor],
  );
  const field = (name: keyof Filters) => ({
    id: `transfers-${name}`,
    name,
    value: draft[name],
    onInput: (e: Event) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value.trim() }),
  });
  return (
    <section>
      <h1 tabIndex={-1}>Transfers</h1>
      <form
        class="filters"
        aria-label="Find a transfer by id"
        onSubmit={(e) => {
          e.preventDefault();
          if (lookup) location.hash = href.transfer(lookup);
        }}
      >
        <div>
          <label for="transfer-lookup">Transfer id</label>
          <input
            id="transfer-lookup"
            value={lookup}
            onInput={(e) => setLookup((e.target as HTMLInputElement).value.trim())}
          />
        </div>
        <button type="submit">Open</button>
      </form>
      <form
        class="filters"
        aria-label="Filter transfers"
        onSubmit={(e) => {
          e.preventDefault();
          pages.reset();
          setFilters(draft);
        }}
      >
        <div>
          <label for="transfers-accountId">Account</label>
          <input {...field('accountId')} />
        </div>
        <div>
          <label for="transfers-status">Status</label>
          <select {...field('status')}>
            <option value="">any</option>
            {['pending', 'posted', 'voided', 'expired'].map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="transfers-from">Recorded from (UTC)</label>
          <input {...field('from')} placeholder="2026-01-01T00:00:00.000Z" />
        </div>
        <div>
          <label for="transfers-to">Recorded to (UTC)</label>
          <input {...field('to')} placeholder="2026-12-31T23:59:59.999Z" />
        </div>
        <div>
          <label for="transfers-metadata">Metadata</label>
          <input {...field('metadata')} placeholder="order=o-1" />
        </div>
        <button type="submit">Apply</button>
      </form>
      {result.state === 'loading' && <Loading what="transfers" />}
      {result.state === 'error' && <ProblemView problem={result.error} />}
      {result.state === 'done' && result.value.items.length === 0 && <Empty>No transfers match.</Empty>}
      {result.state === 'done' && result.value.items.length > 0 && (
        <>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Transfer</th>
                  <th scope="col">Debit</th>
                  <th scope="col">Credit</th>
                  <th scope="col" class="num">
                    Amount
                  </th>
                  <th scope="col">Status</th>
                  <th scope="col">Recorded</th>
                </tr>
              </thead>
              <tbody>
                {result.value.items.map((t) => (
                  <tr key={t.id}>
                    <td>
                      <a href={href.transfer(t.id)}>{t.id}</a>
                    </td>
                    <td>
                      <a href={href.account(t.debitAccountId)}>{t.debitAccountId}</a>
                    </td>
                    <td>
                      <a href={href.account(t.creditAccountId)}>{t.creditAccountId}</a>
                    </td>
                    <td class="num">
                      {money(t.amount)} <small>{t.currency}</small>
                    </td>
                    <td>
                      <span class={`badge ${t.status}`}>{t.status}</span>
                    </td>
                    <td>{time(t.recordedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager pages={pages} nextCursor={result.value.nextCursor} label="Transfers" />
        </>
      )}
    </section>
  );
}
