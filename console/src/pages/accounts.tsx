import { useState } from 'preact/hooks';
import { type Account, type Page, get } from '../api';
import { money, time } from '../format';
import { Pager, metadataParams, useCursorPages } from '../components/pager';
import { Empty, Loading, ProblemView, useAsync } from '../components/status';
import { href } from '../router';

interface Filters {
  currency: string;
  status: string;
  code: string;
  metadata: string;
}
const NONE: Filters = { currency: '', status: '', code: '', metadata: '' };

export function AccountsPage() {
  const [draft, setDraft] = useState<Filters>(NONE);
  const [filters, setFilters] = useState<Filters>(NONE);
  const [limit, setLimit] = useState(25);
  const pages = useCursorPages();
  const result = useAsync(
    () =>
      get<Page<Account>>('/v1/accounts', {
        limit,
        cursor: pages.cursor,
        currency: filters.currency,
        status: filters.status,
        code: filters.code,
        ...metadataParams(filters.metadata),
      }),
    [filters, limit, pages.cursor],
  );
  const field = (name: keyof Filters) => ({
    id: `filter-${name}`,
    name,
    value: draft[name],
    onInput: (e: Event) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value }),
  });
  return (
    <section>
      <h1 tabIndex={-1}>Accounts</h1>
      <form
        class="filters"
        aria-label="Filter accounts"
        onSubmit={(e) => {
          e.preventDefault();
          pages.reset();
          setFilters(draft);
        }}
      >
        <div>
          <label for="filter-currency">Currency</label>
          <input {...field('currency')} placeholder="USD" autoCapitalize="characters" />
        </div>
        <div>
          <label for="filter-status">Status</label>
          <select {...field('status')}>
            <option value="">any</option>
            <option value="open">open</option>
            <option value="frozen">frozen</option>
            <option value="closed">closed</option>
          </select>
        </div>
        <div>
          <label for="filter-code">Code</label>
          <input {...field('code')} />
        </div>
        <div>
          <label for="filter-metadata">Metadata</label>
          <input {...field('metadata')} placeholder="customer=c-1, region=eu" />
        </div>
        <div>
          <label for="page-size">Per page</label>
          <select
            id="page-size"
            value={String(limit)}
            onInput={(e) => {
              pages.reset();
              setLimit(Number((e.target as HTMLSelectElement).value));
            }}
          >
            {[10, 25, 100, 1000].map((n) => (
              <option key={n} value={String(n)}>
                {n}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">Apply</button>
      </form>
      {result.state === 'loading' && <Loading what="accounts" />}
      {result.state === 'error' && <ProblemView problem={result.error} />}
      {result.state === 'done' && result.value.items.length === 0 && (
        <Empty>No accounts match. Open one with POST /v1/accounts, or loosen the filters.</Empty>
      )}
      {result.state === 'done' && result.value.items.length > 0 && (
        <>
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Accounts, oldest first</caption>
              <thead>
                <tr>
                  <th scope="col">Account</th>
                  <th scope="col">Currency</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">
                    Balance
                  </th>
                  <th scope="col">Code</th>
                  <th scope="col">Opened</th>
                </tr>
              </thead>
              <tbody>
                {result.value.items.map((a) => (
                  <tr key={a.id}>
                    <td>
                      <a href={href.account(a.id)}>{a.id}</a>
                    </td>
                    <td>{a.currency}</td>
                    <td>
                      <span class={`badge ${a.status}`}>{a.status}</span>
                    </td>
                    <td class="num">{money(a.balance)}</td>
                    <td>{a.code ?? ''}</td>
                    <td>{time(a.openedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager pages={pages} nextCursor={result.value.nextCursor} label="Accounts" />
        </>
      )}
    </section>
  );
}
