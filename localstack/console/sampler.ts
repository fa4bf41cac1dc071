/**
 * Samples a slow source in the background: one read at a time, the next `intervalMs` after the previous
 * one ended, so however many browsers poll, the cloud sees one status read per interval. Keeps the latest
 * sample and a bounded history of points reduced from each sample (for the plots).
 */
import { RingBuffer } from './ringBuffer';

/** A sample with when it was taken and how long the read took. */
export interface Timed<S> {
  /** Wall-clock time the read started, epoch ms. */
  readonly at: number;
  readonly tookMs: number;
  readonly value: S;
}

/** What the sampler holds; `seq` grows with every finished read, failed or not. */
export interface SamplerState<S, P> {
  readonly seq: number;
  readonly latest: Timed<S> | undefined;
  readonly history: readonly { readonly at: number; readonly point: P }[];
  /** The last read's failure as one line, or undefined when it succeeded. */
  readonly error: string | undefined;
}

/** Options of {@link Sampler}. */
export interface SamplerOptions<S, P> {
  /** Pause between the end of one read and the start of the next. */
  readonly intervalMs: number;
  /** Points kept for the plots. */
  readonly capacity: number;
  /** What the history keeps of a sample. */
  readonly reduce: (sample: S, at: number) => P;
  /** A failed read as the one line the page shows. */
  readonly describeError: (error: unknown) => string;
  /** Wall clock. @default Date.now */
  readonly now?: () => number;
}

export class Sampler<S, P> {
  readonly #history: RingBuffer<{ readonly at: number; readonly point: P }>;
  readonly #now: () => number;
  #latest: Timed<S> | undefined;
  #error: string | undefined;
  #seq = 0;
  #running: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  public constructor(
    private readonly read: () => Promise<S>,
    private readonly options: SamplerOptions<S, P>,
  ) {
    this.#history = new RingBuffer(options.capacity);
    this.#now = options.now ?? Date.now;
  }

  /** Reads once now (waits for a read already running instead of starting a second one). */
  public sampleOnce(): Promise<void> {
    this.#running ??= this.#sample().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Starts sampling in the background: a read now, then one `intervalMs` after each read ends. */
  public start(): void {
    this.#stopped = false;
    const loop = (): void => {
      void this.sampleOnce().then(() => {
        if (!this.#stopped) this.#timer = setTimeout(loop, this.options.intervalMs);
      });
    };
    loop();
  }

  /** Stops the background reads and waits for one in flight. */
  public async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#running;
  }

  public state(): SamplerState<S, P> {
    return { seq: this.#seq, latest: this.#latest, history: this.#history.toArray(), error: this.#error };
  }

  async #sample(): Promise<void> {
    const at = this.#now();
    try {
      const value = await this.read();
      this.#latest = { at, tookMs: Math.max(0, this.#now() - at), value };
      this.#history.push({ at, point: this.options.reduce(value, at) });
      this.#error = undefined;
    } catch (error) {
      this.#error = this.options.describeError(error);
    } finally {
      this.#seq += 1;
    }
  }
}
