/** Groups keys by a string label, keeping their order: loaders batch one statement per group. */
export function groupBy<K, G extends string>(keys: readonly K[], groupOf: (k: K) => G): Map<G, K[]> {
  const groups = new Map<G, K[]>();
  for (const k of keys) {
    const g = groupOf(k);
    const list = groups.get(g);
    if (list) list.push(k);
    else groups.set(g, [k]);
  }
  return groups;
}
