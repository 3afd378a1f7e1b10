import { type RawBuilder, sql } from 'kysely';

/**
 * A timestamptz column as the contract writes timestamps: `YYYY-MM-DDTHH:MM:SS.mmmZ`, in UTC.
 * Done in SQL so PostgreSQL and PGlite hand back the same text (their Date parsing differs).
 * `column` is a column reference written in code, never input.
 */
export const isoTimestamp = (column: string): RawBuilder<string> =>
  sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);
