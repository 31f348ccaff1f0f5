/**
 * `a` itself when it has room for `need` numbers, else a copy at least twice as long: the growth
 * of the typed arrays that hold a run's per-record and per-case numbers outside the collected heap.
 */
export function withRoom<T extends Float64Array | Uint32Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  const grown = new (a.constructor as new (length: number) => T)(Math.max(need, 2 * a.length));
  grown.set(a);
  return grown;
}
