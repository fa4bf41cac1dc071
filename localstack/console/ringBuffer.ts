import { ConsoleError } from './errors';

/**
 * A bounded history: the newest `capacity` values, oldest first. Pushing past capacity overwrites the
 * oldest, so a console left open for hours holds the same memory as one open for minutes.
 */
export class RingBuffer<T> {
  readonly #items: (T | undefined)[];
  #next = 0;
  #size = 0;

  public constructor(public readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new ConsoleError(`history capacity must be a positive integer (given ${capacity})`);
    this.#items = new Array<T | undefined>(capacity);
  }

  public get size(): number {
    return this.#size;
  }

  public push(item: T): void {
    this.#items[this.#next] = item;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size += 1;
  }

  /** The values held, oldest first. */
  public toArray(): T[] {
    const start = (this.#next - this.#size + this.capacity) % this.capacity;
    const out: T[] = [];
    for (let i = 0; i < this.#size; i++) out.push(this.#items[(start + i) % this.capacity] as T);
    return out;
  }

  /** The newest value, if any. */
  public last(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[(this.#next - 1 + this.capacity) % this.capacity];
  }
}
