import { render } from 'preact';
import { useState } from 'preact/hooks';
import './styles.css';
import { AccountPage } from './pages/account';
import { AccountsPage } from './pages/accounts';
import { AuditPage } from './pages/audit';
import { ReviewsPage } from './pages/reviews';
import { SignIn } from './pages/sign-in';
import { TransferPage } from './pages/transfer';
import { TransfersPage } from './pages/transfers';
import { type Route, href, useRoute } from './router';
import { session } from './session';

const NAV: Array<{ page: Route['page']; also?: Route['page']; label: string; to: string }> = [
  { page: 'accounts', also: 'account', label: 'Accounts', to: href.accounts() },
  { page: 'transfers', also: 'transfer', label: 'Transfers', to: href.transfers() },
  { page: 'audit', label: 'Audit', to: href.audit() },
  { page: 'reviews', label: 'Reviews', to: href.reviews() },
];

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'accounts':
      return <AccountsPage />;
    case 'account':
      return <AccountPage id={route.id} />;
    case 'transfers':
      return <TransfersPage key={route.accountId ?? ''} accountId={route.accountId} />;
    case 'transfer':
      return <TransferPage id={route.id} />;
    case 'audit':
      return <AuditPage />;
    case 'reviews':
      return <ReviewsPage />;
  }
}

function App() {
  const [signedIn, setSignedIn] = useState(() => session.key() !== null);
  const route = useRoute();
  if (!signedIn) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  return (
    <>
      <header class="top">
        <a class="brand" href={href.accounts()}>
          Ledger console
        </a>
        <nav aria-label="Sections">
          {NAV.map((item) => (
            <a
              key={item.page}
              href={item.to}
              aria-current={route.page === item.page || route.page === item.also ? 'page' : undefined}
            >
              {item.label}
            </a>
          ))}
        </nav>
        <button
          type="button"
          class="link"
          onClick={() => {
            session.signOut();
            setSignedIn(false);
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main">
        <Page route={route} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
