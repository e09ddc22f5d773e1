/**
 * Test helper: a Web Storage in memory, passed where the browser module takes
 * a `Storage` (the tests in Chromium use the real ones).
 *
 * @module
 */

/** A `Storage` over a `Map`. */
export class MapStorage implements Storage {
  readonly #items = new Map<string, string>();
  [name: string]: unknown;

  get length(): number {
    return this.#items.size;
  }

  clear(): void {
    this.#items.clear();
  }

  getItem(key: string): string | null {
    return this.#items.get(key) ?? null;
  }

  key(index: number): string | null {
    return [...this.#items.keys()][index] ?? null;
  }

  removeItem(key: string): void {
    this.#items.delete(key);
  }

  setItem(key: string, value: string): void {
    this.#items.set(key, String(value));
  }

  /** Every key, for assertions. */
  keys(): string[] {
    return [...this.#items.keys()];
  }
}

/** A `history` that records `replaceState` calls. */
export class RecordingHistory {
  readonly state: unknown = { page: 1 };
  readonly replaced: string[] = [];

  replaceState(_data: unknown, _unused: string, url?: string | URL): void {
    this.replaced.push(String(url));
  }
}
