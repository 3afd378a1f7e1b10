import { useState } from 'preact/hooks';
import { get } from '../api';
import { ProblemView } from '../components/status';
import { session } from '../session';

/** Asks for an API key and checks it with one read before keeping it (session storage only). */
export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    session.signIn(key.trim());
    try {
      await get('/v1/accounts', { limit: 1 });
      onSignedIn();
    } catch (problem) {
      session.signOut();
      setError(problem);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="sign-in">
      <h1 tabIndex={-1}>Ledger console</h1>
      <form onSubmit={submit}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellcheck={false}
          required
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
        />
        <p class="hint">
          The key stays in this tab's session storage and is sent only as an Authorization header. Without
          LEDGER_API_KEYS, <code>npm start</code> prints one at start-up.
        </p>
        <button type="submit" disabled={busy || key.trim() === ''}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
      {error !== null && <ProblemView problem={error} />}
    </main>
  );
}
