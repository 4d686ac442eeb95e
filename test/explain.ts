// Reading query plans in tests: EXPLAIN takes no bind parameters, and its JSON plan is a tree of nodes.

/** every node of an EXPLAIN (FORMAT JSON) plan, at any depth */
export function planNodes(plan: unknown): Array<Record<string, unknown>> {
  if (Array.isArray(plan)) return plan.flatMap(planNodes)
  if (!plan || typeof plan !== 'object') return []
  const node = plan as Record<string, unknown>
  return [...('Node Type' in node ? [node] : []), ...Object.values(node).flatMap(planNodes)]
}

/** the index names a plan uses, at any depth */
export const indexesOf = (plan: unknown): string[] =>
  planNodes(plan).flatMap((n) => (typeof n['Index Name'] === 'string' ? [n['Index Name']] : []))

/** a compiled query with its values written in as literals, for EXPLAIN */
export function inline(text: string, parameters: readonly unknown[]): string {
  const literal = (v: unknown): string => {
    if (v instanceof Date) return `'${v.toISOString()}'::timestamptz`
    if (typeof v === 'number') return String(v)
    return `'${String(v).replace(/'/g, "''")}'`
  }
  return text.replace(/\$(\d+)/g, (_, n: string) => literal(parameters[Number(n) - 1]))
}
