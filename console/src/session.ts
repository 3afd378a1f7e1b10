/**
 * The API key lives in this tab's sessionStorage only: never a cookie (the browser would send it
 * by itself), never the URL (it would land in history, logs and Referer headers). Closing the tab
 * forgets it.
 */
const KEY = 'ledger.apiKey';

export const session = {
  key(): string | null {
    return sessionStorage.getItem(KEY);
  },
  signIn(key: string): void {
    sessionStorage.setItem(KEY, key);
  },
  signOut(): void {
    sessionStorage.removeItem(KEY);
  },
};
