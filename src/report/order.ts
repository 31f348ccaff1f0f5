import { withRoom } from '../util/typed.js';

/**
 * Sort keys and line positions of every record, in typed arrays: 20 bytes a record (suite and
 * model ranks under 65,536 share one word; case index and repeat; the line's offset and length).
 */
export class RowOrder {
  private n = 0;
  get size(): number {
    return this.n;
  }
  /** [suite << 16 | model, case index, repeat] per record. */
  private keys = new Uint32Array(1024 * 3);
  /** [offset, bytes] per record: offsets pass 4 GiB in a large journal. */
  private pos = new Float64Array(1024 * 2);

  push(suite: number, caseIndex: number, model: number, repeat: number, offset: number, bytes: number): void {
    this.keys = withRoom(this.keys, (this.n + 1) * 3);
    this.pos = withRoom(this.pos, (this.n + 1) * 2);
    const i = this.n * 3;
    this.keys[i] = (Math.min(suite, 0xffff) << 16) | Math.min(model, 0xffff);
    this.keys[i + 1] = caseIndex;
    this.keys[i + 2] = repeat;
    this.pos[this.n * 2] = offset;
    this.pos[this.n * 2 + 1] = bytes;
    this.n++;
  }

  *sorted(): Generator<[number, number]> {
    const k = this.keys;
    const idx = new Uint32Array(this.n);
    for (let i = 0; i < this.n; i++) idx[i] = i;
    // Suite first, then case, model, repeat: the high half of the first word orders suites alone.
    idx.sort(
      (x, y) =>
        (k[x * 3] >>> 16) - (k[y * 3] >>> 16) ||
        k[x * 3 + 1] - k[y * 3 + 1] ||
        (k[x * 3] & 0xffff) - (k[y * 3] & 0xffff) ||
        k[x * 3 + 2] - k[y * 3 + 2],
    );
    for (const i of idx) yield [this.pos[i * 2], this.pos[i * 2 + 1]];
  }

  /** Line positions of the records whose key passes `keep`, in push order. */
  *where(
    keep: (suite: number, caseIndex: number, model: number, repeat: number) => boolean,
  ): Generator<[number, number]> {
    const k = this.keys;
    for (let i = 0; i < this.n; i++) {
      const w = k[i * 3];
      if (keep(w >>> 16, k[i * 3 + 1], w & 0xffff, k[i * 3 + 2])) yield [this.pos[i * 2], this.pos[i * 2 + 1]];
    }
  }
}
