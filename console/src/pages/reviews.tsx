import { useState } from 'preact/hooks';
import { type Page, type Review, get, post } from '../api';
import { money, time } from '../format';
import { Pager, useCursorPages } from '../components/pager';
import { Empty, Loading, ProblemView, useAsync } from '../components/status';
import { href } from '../router';

/** The fraud review queue (GET /v1/fraud/reviews) and its decisions (analyst or admin keys). */
export function ReviewsPage() {
  const [status, setStatus] = useState<'open' | 'resolved'>('open');
  const pages = useCursorPages();
  const reviews = useAsync(
    () => get<Page<Review>>('/v1/fraud/reviews', { status, limit: 10, cursor: pages.cursor }),
    [status, pages.cursor],
  );
  return (
    <section>
      <h1 tabIndex={-1}>Fraud reviews</h1>
      <div class="filters">
        <div>
          <label for="review-status">Show</label>
          <select
            id="review-status"
            value={status}
            onInput={(e) => {
              pages.reset();
              setStatus((e.target as HTMLSelectElement).value as 'open' | 'resolved');
            }}
          >
            <option value="open">open reviews</option>
            <option value="resolved">resolved reviews</option>
          </select>
        </div>
      </div>
      {reviews.state === 'loading' && <Loading what="reviews" />}
      {reviews.state === 'error' && <ProblemView problem={reviews.error} />}
      {reviews.state === 'done' && reviews.value.items.length === 0 && (
        <Empty>{status === 'open' ? 'Nothing to review.' : 'No review resolved yet.'}</Empty>
      )}
      {reviews.state === 'done' && reviews.value.items.length > 0 && (
        <>
          <ul class="cards">
            {reviews.value.items.map((review) => (
              <ReviewCard key={review.transferId} review={review} onResolved={reviews.reload} />
            ))}
          </ul>
          <Pager pages={pages} nextCursor={reviews.value.nextCursor} label="Reviews" />
        </>
      )}
    </section>
  );
}

function ReviewCard({ review, onResolved }: { review: Review; onResolved: () => void }) {
  const [note, setNote] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const decide = async (outcome: 'fraud' | 'legitimate') => {
    setBusy(true);
    setError(null);
    try {
      await post(`/v1/fraud/reviews/${encodeURIComponent(review.transferId)}`, {
        id: `console-${crypto.randomUUID()}`,
        outcome,
        note: note || `${outcome} (console)`,
      });
      onResolved();
    } catch (problem) {
      setError(problem);
    } finally {
      setBusy(false);
    }
  };
  const noteId = `note-${review.transferId}`;
  return (
    <li class="card" data-review={review.transferId}>
      <h2>
        <a href={href.transfer(review.transferId)}>{review.transferId}</a>
      </h2>
      <p>
        {money(review.amount)} <small>{review.currency}</small> from{' '}
        <a href={href.account(review.debitAccountId)}>{review.debitAccountId}</a> to{' '}
        <a href={href.account(review.creditAccountId)}>{review.creditAccountId}</a> · score{' '}
        <meter min={0} max={1} value={review.risk.score} aria-label="fraud score" /> {review.risk.score.toFixed(3)} ·
        recorded {time(review.recordedAt)}
      </p>
      {review.resolution ? (
        <p class="resolution">
          <span class={`badge ${review.resolution.outcome}`}>{review.resolution.outcome}</span> by{' '}
          {review.resolution.actor ?? 'unknown'} at {time(review.resolution.resolvedAt)}: {review.resolution.note} ·
          compensation {review.compensation.state}
        </p>
      ) : (
        <div class="decide">
          <label for={noteId}>Note</label>
          <input id={noteId} value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
          <button type="button" disabled={busy} onClick={() => decide('legitimate')}>
            Legitimate
          </button>
          <button type="button" class="danger" disabled={busy} onClick={() => decide('fraud')}>
            Fraud
          </button>
        </div>
      )}
      {error !== null && <ProblemView problem={error} />}
    </li>
  );
}
