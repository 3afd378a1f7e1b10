/** Minor units as a decimal string, grouped by thousands; exact (string and bigint, never a float). */
export function money(minor: string | undefined): string {
  if (minor === undefined) return '—';
  const negative = minor.startsWith('-');
  const digits = negative ? minor.slice(1) : minor;
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
  return negative ? `−${grouped}` : grouped;
}

/** A timestamp as the ledger writes it, shortened for tables: date and time to the millisecond, UTC. */
export const time = (iso: string | undefined): string => (iso ? iso.replace('T', ' ').replace('Z', ' UTC') : '—');

export const shortHash = (hex: string): string => (hex.length > 16 ? `${hex.slice(0, 8)}…${hex.slice(-8)}` : hex);
