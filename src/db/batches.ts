/**
 * Rows of a multi-row INSERT in batches: Postgres takes at most 65,535 parameters per statement, so a
 * batch of a scheduled job (thousands of timeline entries, say) is written in a few statements, never one
 * per row and never one too large.
 */
export const ROWS_PER_STATEMENT = 1000

export function inBatches<T>(rows: readonly T[], size = ROWS_PER_STATEMENT): T[][] {
  const batches: T[][] = []
  for (let i = 0; i < rows.length; i += size) batches.push(rows.slice(i, i + size))
  return batches
}
