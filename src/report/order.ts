/** Sort keys and line positions of every record, in typed arrays (a few bytes per record). */
export class RowOrder {
  private n = 0;
  get size(): number {
    return this.n;
  }
  private keys = new Float64Array(1024 * 4);
  private pos = new Float64Array(1024 * 2);

  push(suite: number, caseIndex: number, model: number, repeat: number, offset: number, bytes: number): void {
    if (this.n * 4 >= this.keys.length) {
      const k = new Float64Array(this.keys.length * 2);
      k.set(this.keys);
      this.keys = k;
      const p = new Float64Array(this.pos.length * 2);
      p.set(this.pos);
      this.pos = p;
    }
    this.keys.set([suite, caseIndex, model, repeat], this.n * 4);
    this.pos.set([offset, bytes], this.n * 2);
    this.n++;
  }

  *sorted(): Generator<[number, number]> {
    const k = this.keys;
    const idx = new Uint32Array(this.n);
    for (let i = 0; i < this.n; i++) idx[i] = i;
    idx.sort(
      (x, y) =>
        k[x * 4] - k[y * 4] ||
        k[x * 4 + 1] - k[y * 4 + 1] ||
        k[x * 4 + 2] - k[y * 4 + 2] ||
        k[x * 4 + 3] - k[y * 4 + 3],
    );
    for (const i of idx) yield [this.pos[i * 2], this.pos[i * 2 + 1]];
  }

  /** Line positions of the records whose key passes `keep`, in push order. */
  *where(
    keep: (suite: number, caseIndex: number, model: number, repeat: number) => boolean,
  ): Generator<[number, number]> {
    const k = this.keys;
    for (let i = 0; i < this.n; i++)
      if (keep(k[i * 4], k[i * 4 + 1], k[i * 4 + 2], k[i * 4 + 3])) yield [this.pos[i * 2], this.pos[i * 2 + 1]];
  }
}
