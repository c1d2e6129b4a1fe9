// Type declarations for converge-crdt (hand-written; checked by `tsc --strict` in test.sh).

/**
 * A scalar stored in a map, list, register or set. A number that is a safe integer is stored
 * as an integer, any other number as a float; a bigint is a 64-bit integer. Integers read
 * back as numbers, or as bigints when they exceed Number.MAX_SAFE_INTEGER.
 */
export type Value = null | boolean | number | bigint | string | Uint8Array;

/** Plain data: what `toJSON()` returns. */
export type JsonValue = Value | JsonValue[] | { [key: string]: JsonValue };

/** The kinds of container. */
export type ContainerKind = 'map' | 'list' | 'text' | 'counter' | 'register' | 'set';

/** Any container reference. */
export type Container = MapRef | ListRef | TextRef | CounterRef | RegisterRef | SetRef;

/** The reference type of each container kind. */
export interface ContainerOfKind {
  map: MapRef;
  list: ListRef;
  text: TextRef;
  counter: CounterRef;
  register: RegisterRef;
  set: SetRef;
}

/** What a map entry or list element holds: a value or a nested container. */
export type Item = Value | Container;

/** Loads the WebAssembly module (browsers and bundlers; a no-op in Node.js). */
export function init(
  input?: string | URL | Request | Response | BufferSource | WebAssembly.Module,
): Promise<void>;

/** Loads the WebAssembly module synchronously (a no-op in Node.js). */
export function initSync(module?: BufferSource | WebAssembly.Module): void;

/** The size of the WebAssembly memory in bytes; it grows and never shrinks. */
export function wasmMemoryBytes(): number;

/** What `applyUpdate` did. */
export interface ApplyReport {
  /** Updates applied by this call (new ones and buffered ones they unblocked). */
  applied: number;
  /** Updates already known. */
  duplicates: number;
  /** Updates buffered because something they depend on is missing. */
  pending: number;
  /** Buffered updates dropped as invalid once their dependencies arrived. */
  rejected: number;
  /** The least version that would make every buffered update ready (version bytes). */
  missing: Uint8Array;
}

/** A map's changed keys. */
export interface KeysChange {
  type: 'keys';
  container: Container;
  /** The keys that now read differently, ascending. */
  keys: string[];
}

/**
 * A list's or text's changed range: `removed` old positions at `start` were replaced by
 * `inserted` new ones. For texts `start` and `inserted` count UTF-16 code units and
 * `removed` counts code points (the removed text is gone; equal for text without
 * surrogate pairs).
 */
export interface RangeChange {
  type: 'range';
  container: Container;
  start: number;
  removed: number;
  inserted: number;
}

/** A counter, register or set has a new value. */
export interface ValueChange {
  type: 'value';
  container: Container;
}

/** One container's change. */
export type Change = KeysChange | RangeChange | ValueChange;

/** What one committed transaction or one applyUpdate changed. */
export interface ChangeEvent {
  origin: 'local' | 'remote';
  changes: Change[];
}

/** A subscriber. */
export type Listener = (event: ChangeEvent) => void;

/** Options of `new Doc` and `Doc.load`. */
export interface DocOptions {
  /** Bytes of history the document may keep; beyond it edits and updates fail with BudgetExceededError. */
  memoryLimit?: number;
}

/** A collaborative document: named root containers, transactions, events and sync. */
export class Doc {
  /** An empty document; `replicaId` is random when omitted (each replica needs its own). */
  constructor(replicaId?: number | bigint, options?: DocOptions);
  /** Restores a document from `save()` or `saveHistory()` bytes. Throws DecodeError on bad bytes. */
  static load(bytes: Uint8Array, options?: DocOptions): Doc;
  /** Combines update messages into one. */
  static mergeUpdates(updates: Iterable<Uint8Array>): Uint8Array;

  /** The replica id local edits are attributed to. */
  readonly replicaId: bigint;

  getText(name: string): TextRef;
  getMap(name: string): MapRef;
  getList(name: string): ListRef;
  getCounter(name: string): CounterRef;
  getRegister(name: string): RegisterRef;
  getSet(name: string): SetRef;

  /** Opens a transaction (TransactionError if one is open). */
  begin(): void;
  /** Commits the open transaction as one update and one event. */
  commit(): void;
  /** Discards the open transaction's edits. */
  rollback(): void;
  /** Whether a transaction is open. */
  readonly inTransaction: boolean;
  /** Runs a synchronous `fn` in a transaction, rolled back if it throws. */
  transact<T>(fn: (doc: Doc) => T): T;

  /** Calls `listener` after each call that changed the document; returns an unsubscribe. */
  subscribe(listener: Listener): () => void;

  /** The version vector as bytes. */
  version(): Uint8Array;
  /** The updates a peer at `version` lacks (everything when omitted). */
  encodeUpdatesSince(version?: Uint8Array): Uint8Array;
  /** Applies an update message; idempotent and order-independent. */
  applyUpdate(bytes: Uint8Array): ApplyReport;
  /** A snapshot of the document's state, for `Doc.load`. */
  save(): Uint8Array;
  /** The whole edit history in its most compact form (the smallest transfer), for `Doc.load`. */
  saveHistory(): Uint8Array;
  /** Buffered updates waiting for their dependencies. */
  readonly pendingCount: number;
  /** Bytes charged to the memory limit (0 without one). */
  readonly memoryUsed: number;
  /** Every non-empty root by name, as plain data. */
  toJSON(): { [root: string]: JsonValue };

  /** Frees the WebAssembly memory now; later calls throw ConvergeError FREED. */
  free(): void;
  [Symbol.dispose](): void;
}

/** Common to every container reference. */
export abstract class ContainerRef {
  /** The document the container belongs to. */
  readonly doc: Doc;
  /** The container's kind. */
  abstract readonly kind: ContainerKind;
  /** The content as plain data. */
  toJSON(): JsonValue;
}

/** Collaborative text; positions and lengths are UTF-16 code units. */
export class TextRef extends ContainerRef {
  private constructor();
  readonly kind: 'text';
  insert(index: number, text: string): void;
  delete(index: number, length: number): void;
  /** Deletes and inserts at `index` as one edit. */
  splice(index: number, deleteCount: number, text?: string): void;
  /** Applies `[index, deleteCount, text?]` splices in one call and one transaction. */
  applyPatches(patches: ReadonlyArray<readonly [number, number, string?]>): void;
  /** applyPatches with `index, deleteCount, insertLength` triples and the inserts joined. */
  applyEncodedPatches(ops: Uint32Array, inserted: string): void;
  /** Length in UTF-16 code units. */
  readonly length: number;
  toString(): string;
  toJSON(): string;
}

/** String keys to values and containers, last writer wins per key. */
export class MapRef extends ContainerRef {
  private constructor();
  readonly kind: 'map';
  set(key: string, value: Value): this;
  /** Sets every entry as one edit. */
  setMany(entries: { [key: string]: Value } | Iterable<readonly [string, Value]>): this;
  insertContainer<K extends ContainerKind>(key: string, kind: K): ContainerOfKind[K];
  delete(key: string): void;
  get(key: string): Item | undefined;
  has(key: string): boolean;
  keys(): string[];
  values(): Item[];
  entries(): [string, Item][];
  readonly size: number;
  [Symbol.iterator](): Iterator<[string, Item]>;
  toJSON(): { [key: string]: JsonValue };
}

/** An ordered list of values and containers. */
export class ListRef extends ContainerRef {
  private constructor();
  readonly kind: 'list';
  insert(index: number, ...values: Value[]): void;
  insertMany(index: number, values: Iterable<Value>): void;
  /** Appends; returns the new length. */
  push(...values: Value[]): number;
  delete(index: number, count?: number): void;
  insertContainer<K extends ContainerKind>(index: number, kind: K): ContainerOfKind[K];
  pushContainer<K extends ContainerKind>(kind: K): ContainerOfKind[K];
  get(index: number): Item | undefined;
  readonly length: number;
  toArray(): Item[];
  [Symbol.iterator](): Iterator<Item>;
  toJSON(): JsonValue[];
}

/** A counter; concurrent additions add up. */
export class CounterRef extends ContainerRef {
  private constructor();
  readonly kind: 'counter';
  add(amount?: number | bigint): void;
  readonly value: number | bigint;
  toJSON(): number | bigint;
}

/** One value, last writer wins. */
export class RegisterRef extends ContainerRef {
  private constructor();
  readonly kind: 'register';
  set(value: Value): void;
  /** The value, or undefined if never written. */
  get(): Value | undefined;
  toJSON(): Value;
}

/** A set of values; a concurrent add wins over a remove. */
export class SetRef extends ContainerRef {
  private constructor();
  readonly kind: 'set';
  add(value: Value): this;
  addMany(values: Iterable<Value>): this;
  delete(value: Value): void;
  deleteMany(values: Iterable<Value>): void;
  has(value: Value): boolean;
  /** The values, ascending. */
  values(): Value[];
  readonly size: number;
  [Symbol.iterator](): Iterator<Value>;
  toJSON(): Value[];
}

/** The stable error codes of ConvergeError (more may be added). */
export type ErrorCode =
  | 'DECODE'
  | 'OUT_OF_BOUNDS'
  | 'INVALID_POSITION'
  | 'WRONG_KIND'
  | 'UNKNOWN_CONTAINER'
  | 'INVALID_UPDATE'
  | 'CONFLICT'
  | 'BUDGET_EXCEEDED'
  | 'TOO_DEEP'
  | 'TRANSACTION_OPEN'
  | 'NO_TRANSACTION'
  | 'FREED'
  | 'INTERNAL';

/** Every error converge reports; a failed call leaves the document unchanged. */
export class ConvergeError extends Error {
  constructor(message: string, code: ErrorCode | (string & {}));
  readonly code: ErrorCode | (string & {});
}
export class DecodeError extends ConvergeError {}
export class OutOfBoundsError extends ConvergeError {}
export class InvalidPositionError extends ConvergeError {}
export class WrongKindError extends ConvergeError {}
export class UnknownContainerError extends ConvergeError {}
export class InvalidUpdateError extends ConvergeError {}
export class ConflictError extends ConvergeError {}
export class BudgetExceededError extends ConvergeError {}
export class TooDeepError extends ConvergeError {}
export class TransactionError extends ConvergeError {}
