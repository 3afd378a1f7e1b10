import { useState } from 'preact/hooks';

/** Cursor paging: a stack of the cursors that led here, so "Previous" needs no reverse cursor. */
export function useCursorPages() {
  const [stack, setStack] = useState<Array<string | undefined>>([undefined]);
  const cursor = stack[stack.length - 1];
  return {
    cursor,
    page: stack.length,
    next: (nextCursor: string) => setStack([...stack, nextCursor]),
    previous: () => setStack(stack.length > 1 ? stack.slice(0, -1) : stack),
    reset: () => setStack([undefined]),
  };
}

export function Pager({
  pages,
  nextCursor,
  label,
}: {
  pages: ReturnType<typeof useCursorPages>;
  nextCursor: string | null;
  label: string;
}) {
  if (pages.page === 1 && nextCursor === null) return null; // one page: nothing to move between
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      <button type="button" disabled={pages.page === 1} onClick={pages.previous}>
        Previous
      </button>
      <span aria-live="polite">Page {pages.page}</span>
      <button type="button" disabled={nextCursor === null} onClick={() => nextCursor && pages.next(nextCursor)}>
        Next
      </button>
    </nav>
  );
}

/** `key=value` lines (or comma-separated) into metadata.<key>=<value> query parameters. */
export function metadataParams(text: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of text.split(/[\n,]/)) {
    const at = pair.indexOf('=');
    if (at > 0) params[`metadata.${pair.slice(0, at).trim()}`] = pair.slice(at + 1).trim();
  }
  return params;
}
