import type { Keyset } from '../projections/lists';
import { Id, Timestamp } from './schemas';

/**
 * List cursors are opaque to clients: the sort key of a page's last row, tagged with the list it
 * belongs to (an accounts cursor given to the transfers list is refused), as base64url JSON.
 */
export type ListName = 'accounts' | 'transfers' | 'fraud-reviews';

export const encodeListCursor = (list: ListName, keyset: Keyset): string =>
  Buffer.from(JSON.stringify([list, keyset.at, keyset.id])).toString('base64url');

export function decodeListCursor(list: ListName, cursor: string): Keyset | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 3 || value[0] !== list) return undefined;
  const at = Timestamp.safeParse(value[1]);
  const id = Id.safeParse(value[2]);
  return at.success && id.success ? { at: at.data, id: id.data } : undefined;
}
