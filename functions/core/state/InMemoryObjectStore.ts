/** Object store in process memory (unit tests, fault harness, bounded runs). */
import type { ObjectStore } from './types';

/** One stored object. */
export interface StoredObject {
  readonly body: Uint8Array;
  readonly contentType: string;
}

export class InMemoryObjectStore implements ObjectStore {
  public readonly objects = new Map<string, StoredObject>();
  /** Number of calls made, for request accounting. */
  public requests = 0;

  public async putObject(key: string, body: Uint8Array | string, contentType: string): Promise<void> {
    this.requests += 1;
    this.objects.set(key, {
      body: typeof body === 'string' ? new TextEncoder().encode(body) : body.slice(),
      contentType,
    });
  }

  public async listKeys(prefix: string, startAfter?: string): Promise<string[]> {
    this.requests += 1;
    return [...this.objects.keys()]
      .filter((key) => key.startsWith(prefix) && (startAfter === undefined || key > startAfter))
      .sort();
  }

  public async deleteObject(key: string): Promise<void> {
    this.requests += 1;
    this.objects.delete(key);
  }

  /** Every line of the JSON Lines objects under `prefix`, parsed, objects in the order they were first put. */
  public jsonLines<T>(prefix: string): T[] {
    return [...this.objects.keys()]
      .filter((key) => key.startsWith(prefix))
      .flatMap((key) =>
        (this.text(key) ?? '')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as T),
      );
  }

  /** The body of `key` as text, or undefined. */
  public text(key: string): string | undefined {
    const stored = this.objects.get(key);
    return stored === undefined ? undefined : new TextDecoder().decode(stored.body);
  }
}
