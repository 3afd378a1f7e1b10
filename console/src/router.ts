import { useEffect, useState } from 'preact/hooks';

/** Routes live in the fragment (#/accounts/acct:1): one index.html, nothing for the server to route. */
export type Route =
  | { page: 'accounts' }
  | { page: 'account'; id: string }
  | { page: 'transfers'; accountId?: string }
  | { page: 'transfer'; id: string }
  | { page: 'audit' }
  | { page: 'reviews' };

export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?');
  const [, first = '', second] = path.split('/');
  const id = second === undefined ? undefined : decodeURIComponent(second);
  if (first === 'accounts' && id) return { page: 'account', id };
  if (first === 'transfers' && id) return { page: 'transfer', id };
  if (first === 'transfers') {
    const accountId = new URLSearchParams(search).get('accountId');
    return accountId ? { page: 'transfers', accountId } : { page: 'transfers' };
  }
  if (first === 'audit') return { page: 'audit' };
  if (first === 'reviews') return { page: 'reviews' };
  return { page: 'accounts' };
}

export const href = {
  accounts: () => '#/accounts',
  account: (id: string) => `#/accounts/${encodeURIComponent(id)}`,
  transfers: (accountId?: string) =>
    accountId ? `#/transfers?accountId=${encodeURIComponent(accountId)}` : '#/transfers',
  transfer: (id: string) => `#/transfers/${encodeURIComponent(id)}`,
  audit: () => '#/audit',
  reviews: () => '#/reviews',
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => {
      setRoute(parseRoute(location.hash));
      // Move focus to the new page's heading so keyboard and screen-reader users follow along.
      requestAnimationFrame(() => document.querySelector<HTMLElement>('main h1')?.focus());
    };
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
