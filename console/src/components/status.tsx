import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { Problem } from '../api';

/** A problem as the ledger wrote it: its title and detail, and each invalid field. */
export function ProblemView({ problem }: { problem: unknown }) {
  const p =
    problem instanceof Problem ? problem : new Problem(0, 'Something went wrong in the console', String(problem), '');
  return (
    <div class="problem" role="alert">
      <strong class="problem-title">{p.title}</strong>
      <p class="problem-detail">{p.detail}</p>
      {p.errors.length > 0 && (
        <ul>
          {p.errors.map((e) => (
            <li key={e.path}>
              <code>{e.path}</code> {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export const Loading = ({ what }: { what: string }) => (
  <p class="loading" role="status" aria-live="polite">
    Loading {what}…
  </p>
);

export const Empty = ({ children }: { children: ComponentChildren }) => <p class="empty">{children}</p>;

export type Async<T> =
  | { state: 'loading' }
  | { state: 'error'; error: unknown }
  | { state: 'done'; value: T; reload: () => void };

/** Runs `load` when `deps` change; a stale answer (deps changed meanwhile) is dropped. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [result, setResult] = useState<Async<T>>({ state: 'loading' });
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    setResult({ state: 'loading' });
    load().then(
      (value) => mine === generation.current && setResult({ state: 'done', value, reload: run }),
      (error) => mine === generation.current && setResult({ state: 'error', error }),
    );
  }, deps);
  useEffect(run, [run]);
  return result;
}
