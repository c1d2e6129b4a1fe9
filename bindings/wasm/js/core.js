// The public JavaScript API of converge-crdt, over the wasm-bindgen class `RawDoc`.
//
// Thin by design: argument checks, container reference objects, error classes and event
// delivery. Every CRDT rule lives in the Rust kernel. Entry points (node.mjs, node.cjs,
// browser.js) load the WebAssembly module and re-export this file.

import {
  RawDoc,
  mergeUpdates as rawMergeUpdates,
  wasmMemory,
  wasmMemoryBytes as rawMemoryBytes,
} from './converge_wasm.js';

const KINDS = ['map', 'list', 'text', 'counter', 'register', 'set'];
const KIND_NUMBER = { map: 0, list: 1, text: 2, counter: 3, register: 4, set: 5 };
const DISPOSE = Symbol.dispose ?? Symbol.for('Symbol.dispose');

// ------------------------------------------------------------------------------ errors

/** Base class of every error the kernel reports; `code` is stable across versions. */
export class ConvergeError extends Error {
  constructor(message, code) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}
/** Bytes that are not a well-formed update, snapshot or version (code DECODE). */
export class DecodeError extends ConvergeError {}
/** A position or range outside a list or text (code OUT_OF_BOUNDS). */
export class OutOfBoundsError extends ConvergeError {}
/** A UTF-16 position inside a surrogate pair (code INVALID_POSITION). */
export class InvalidPositionError extends ConvergeError {}
/** A container used as the wrong kind (code WRONG_KIND). */
export class WrongKindError extends ConvergeError {}
/** A nested container this document does not know (code UNKNOWN_CONTAINER). */
export class UnknownContainerError extends ConvergeError {}
/** An update that breaks the protocol (code INVALID_UPDATE). */
export class InvalidUpdateError extends ConvergeError {}
/** An update reusing a known update's id with other content (code CONFLICT). */
export class ConflictError extends ConvergeError {}
/** The document's memory budget would be exceeded (code BUDGET_EXCEEDED). */
export class BudgetExceededError extends ConvergeError {}
/** Containers nested too deep (code TOO_DEEP). */
export class TooDeepError extends ConvergeError {}
/** A transaction is open where none may be, or none is open (TRANSACTION_OPEN, NO_TRANSACTION). */
export class TransactionError extends ConvergeError {}

const ERROR_CLASSES = new Map([
  ['DECODE', DecodeError],
  ['OUT_OF_BOUNDS', OutOfBoundsError],
  ['INVALID_POSITION', InvalidPositionError],
  ['WRONG_KIND', WrongKindError],
  ['UNKNOWN_CONTAINER', UnknownContainerError],
  ['INVALID_UPDATE', InvalidUpdateError],
  ['CONFLICT', ConflictError],
  ['BUDGET_EXCEEDED', BudgetExceededError],
  ['TOO_DEEP', TooDeepError],
  ['TRANSACTION_OPEN', TransactionError],
  ['NO_TRANSACTION', TransactionError],
]);

/** Converts an error thrown by the Rust side into its ConvergeError class. */
function convert(e) {
  if (e instanceof Error && !(e instanceof ConvergeError)) {
    const cls = ERROR_CLASSES.get(e.name);
    if (cls !== undefined) return new cls(e.message, e.name);
    if (/^[A-Z][A-Z_]+$/.test(e.name)) return new ConvergeError(e.message, e.name);
    if (typeof WebAssembly !== 'undefined' && e instanceof WebAssembly.RuntimeError) {
      return new ConvergeError(
        `converge aborted (${e.message}); discard this module instance`,
        'INTERNAL',
      );
    }
  }
  return e;
}

function freed() {
  throw new ConvergeError('this document was freed', 'FREED');
}
/** Stands in for a freed document's RawDoc: every method throws FREED. */
const FREED_RAW = new Proxy({}, { get: () => freed });

const utf8 = new TextEncoder();
/**
 * Strings this long cross encoded by `utf8` (native code) rather than by the glue's loop over
 * their code units, which until V8 optimises it costs ~100 µs for 6,000 units.
 */
const isLong = (s) => typeof s === 'string' && s.length > 256;

function index(n, what) {
  // Exactly the integers 0 ..= 2^32 - 1 survive `>>> 0` unchanged (strings, NaN and
  // fractions do not).
  if (n >>> 0 !== n) {
    throw new RangeError(`${what} must be a non-negative integer, got ${String(n)}`);
  }
  return n;
}

/** Whether every element is a number: such a batch crosses as one `Float64Array`. */
function allNumbers(values) {
  if (values.length < 2) return false;
  for (let i = 0; i < values.length; i++) if (typeof values[i] !== 'number') return false;
  return true;
}

function kindNumber(kind) {
  const k = KIND_NUMBER[kind];
  if (k === undefined || !Object.hasOwn(KIND_NUMBER, kind)) {
    throw new TypeError(`unknown container kind ${String(kind)}; expected one of ${KINDS.join(', ')}`);
  }
  return k;
}

function memoryLimit(options) {
  const limit = options?.memoryLimit;
  if (limit === undefined) return undefined;
  if (!Number.isSafeInteger(limit) || limit < 0 || limit > 0xffffffff) {
    throw new RangeError('memoryLimit must be a non-negative integer below 2^32');
  }
  return limit;
}

const reportError =
  globalThis.reportError ??
  ((e) =>
    queueMicrotask(() => {
      throw e;
    }));

// ------------------------------------------------------------------------------ Doc

/** A collaborative document: named root containers, transactions, events and sync. */
export class Doc {
  /**
   * @param {number | bigint} [replicaId] this replica's id; random when omitted. Every
   * replica editing a document must use its own.
   * @param {{ memoryLimit?: number }} [options] `memoryLimit`: bytes of history the document
   * may keep; an edit or update beyond it fails with BudgetExceededError.
   */
  constructor(replicaId, options) {
    let id;
    if (replicaId === undefined) {
      id = globalThis.crypto.getRandomValues(new BigUint64Array(1))[0];
    } else if (typeof replicaId === 'bigint') {
      if (replicaId < 0n || replicaId > 0xffffffffffffffffn) {
        throw new RangeError('replicaId must fit in 64 unsigned bits');
      }
      id = replicaId;
    } else if (Number.isSafeInteger(replicaId) && replicaId >= 0) {
      id = BigInt(replicaId);
    } else {
      throw new RangeError('replicaId must be a non-negative safe integer or a bigint');
    }
    const limit = memoryLimit(options);
    this._init(limit === undefined ? new RawDoc(id) : RawDoc.with_memory_limit(id, limit));
  }

  _init(raw) {
    this._raw = raw;
    this._refs = [];
    this._subs = new Set();
    this._delivering = false;
  }

  /** Restores a document from `save()` or `saveHistory()` bytes (with the saved replica id). */
  static load(bytes, options) {
    const limit = memoryLimit(options);
    let raw;
    try {
      raw = RawDoc.load(bytes, limit);
    } catch (e) {
      throw convert(e);
    }
    const doc = Object.create(Doc.prototype);
    doc._init(raw);
    return doc;
  }

  /** Combines update messages into one message carrying all of them. */
  static mergeUpdates(updates) {
    try {
      return rawMergeUpdates(Array.from(updates));
    } catch (e) {
      throw convert(e);
    }
  }

  /** The replica id local edits are attributed to. */
  get replicaId() {
    return this._raw.replica();
  }

  // -- containers

  _ref(h, kind) {
    let r = this._refs[h];
    if (r === undefined) {
      r = new REF_CLASSES[kind](this, h);
      this._refs[h] = r;
    }
    return r;
  }

  /** A raw read result as a value or a container reference. */
  _item(x) {
    return Array.isArray(x) ? this._ref(x[0], x[1]) : x;
  }

  _root(name, kind) {
    if (typeof name !== 'string') throw new TypeError('a root name must be a string');
    return this._ref(this._raw.root(name, kind), kind);
  }

  /** The root text called `name`. */
  getText(name) {
    return this._root(name, 2);
  }
  /** The root map called `name`. */
  getMap(name) {
    return this._root(name, 0);
  }
  /** The root list called `name`. */
  getList(name) {
    return this._root(name, 1);
  }
  /** The root counter called `name`. */
  getCounter(name) {
    return this._root(name, 3);
  }
  /** The root register called `name`. */
  getRegister(name) {
    return this._root(name, 4);
  }
  /** The root set called `name`. */
  getSet(name) {
    return this._root(name, 5);
  }

  // -- transactions

  /** Opens a transaction: edits until commit() are one update and one event. */
  begin() {
    try {
      this._raw.begin();
    } catch (e) {
      throw convert(e);
    }
  }

  /** Commits the open transaction. */
  commit() {
    try {
      this._raw.commit();
    } catch (e) {
      throw convert(e);
    }
    this._flush();
  }

  /** Discards the open transaction's edits (nothing happens if none is open). */
  rollback() {
    this._raw.rollback();
  }

  /** Whether a transaction is open. */
  get inTransaction() {
    return this._raw.in_transaction();
  }

  /**
   * Runs `fn` in a transaction: committed when it returns, rolled back when it throws.
   * `fn` must be synchronous. Returns what `fn` returns.
   */
  transact(fn) {
    this.begin();
    let result;
    try {
      result = fn(this);
      if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
        throw new TypeError('transact() takes a synchronous function');
      }
    } catch (e) {
      this._raw.rollback();
      throw e;
    }
    this.commit();
    return result;
  }

  // -- events

  /**
   * Calls `listener` with each change event, after the call that caused it has returned.
   * Returns a function that unsubscribes it.
   */
  subscribe(listener) {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    const entry = { listener };
    if (this._subs.size === 0) this._raw.queue_events(true);
    this._subs.add(entry);
    return () => {
      if (this._subs.delete(entry) && this._subs.size === 0 && this._raw !== FREED_RAW) {
        this._raw.queue_events(false);
      }
    };
  }

  _flush() {
    if (this._subs.size === 0 || this._delivering) return;
    this._delivering = true;
    try {
      for (;;) {
        const events = this._raw.take_events();
        if (events.length === 0) break;
        for (const ev of events) {
          for (const c of ev.changes) c.container = this._ref(c.container[0], c.container[1]);
          for (const { listener } of [...this._subs]) {
            try {
              listener(ev);
            } catch (e) {
              reportError(e);
            }
          }
        }
      }
    } finally {
      this._delivering = false;
    }
  }

  // -- sync and storage

  /** This document's version vector, as bytes. */
  version() {
    return this._raw.version();
  }

  /** The updates a peer at `version` lacks (everything when omitted), as one message. */
  encodeUpdatesSince(version) {
    try {
      return this._raw.encode_updates_since(version);
    } catch (e) {
      throw convert(e);
    }
  }

  /** Applies an update message; idempotent, buffers what is not ready yet. */
  applyUpdate(bytes) {
    let report;
    try {
      report = this._raw.apply_update(bytes);
    } catch (e) {
      throw convert(e);
    }
    this._flush();
    return report;
  }

  /** A snapshot of the document's state as bytes for `Doc.load`. */
  save() {
    try {
      return this._raw.save();
    } catch (e) {
      throw convert(e);
    }
  }

  /** The whole edit history in its most compact form (the smallest transfer); `Doc.load` reads it. */
  saveHistory() {
    try {
      return this._raw.save_history();
    } catch (e) {
      throw convert(e);
    }
  }

  /** Updates received whose dependencies are still missing. */
  get pendingCount() {
    return this._raw.pending_count();
  }

  /** Bytes of history this document keeps. */
  get memoryUsed() {
    return this._raw.memory_used();
  }

  /** The document as plain data: every non-empty root by name. */
  toJSON() {
    return this._raw.to_json();
  }

  // -- memory

  /** Releases the document's WebAssembly memory now; the document is unusable after. */
  free() {
    const raw = this._raw;
    if (raw === FREED_RAW) return;
    this._raw = FREED_RAW;
    this._refs = [];
    this._subs.clear();
    raw.free();
  }

  [DISPOSE]() {
    this.free();
  }
}

// ------------------------------------------------------------------------------ containers

/** A reference to one container of a document. */
export class ContainerRef {
  constructor(doc, handle) {
    this._doc = doc;
    this._h = handle;
  }
  /** The document this container belongs to. */
  get doc() {
    return this._doc;
  }
  /** The container's current content as plain data. */
  toJSON() {
    try {
      return this._doc._raw.container_json(this._h);
    } catch (e) {
      throw convert(e);
    }
  }
}

/** Collaborative text; positions and lengths are UTF-16 code units, as in JS strings. */
export class TextRef extends ContainerRef {
  get kind() {
    return 'text';
  }
  /** Inserts `text` at `index`. */
  insert(index_, text) {
    const doc = this._doc;
    let failed;
    try {
      const i = index(index_, 'index');
      failed =
        (isLong(text)
          ? doc._raw.text_splice_utf8(this._h, i, 0, utf8.encode(text))
          : doc._raw.text_insert(this._h, i, text)) !== 0;
    } catch (e) {
      throw convert(e);
    }
    if (failed) throw convert(doc._raw.take_error());
    if (doc._subs.size !== 0) doc._flush();
  }
  /** Deletes `length` code units from `index`. */
  delete(index_, length) {
    const doc = this._doc;
    let failed;
    try {
      failed = doc._raw.text_delete(this._h, index(index_, 'index'), index(length, 'length')) !== 0;
    } catch (e) {
      throw convert(e);
    }
    if (failed) throw convert(doc._raw.take_error());
    if (doc._subs.size !== 0) doc._flush();
  }
  /** Deletes `deleteCount` code units at `index` and inserts `text` there, as one edit. */
  splice(index_, deleteCount, text = '') {
    const doc = this._doc;
    let failed;
    try {
      const i = index(index_, 'index');
      const del = index(deleteCount, 'deleteCount');
      failed =
        (isLong(text)
          ? doc._raw.text_splice_utf8(this._h, i, del, utf8.encode(text))
          : doc._raw.text_splice(this._h, i, del, text)) !== 0;
    } catch (e) {
      throw convert(e);
    }
    if (failed) throw convert(doc._raw.take_error());
    if (doc._subs.size !== 0) doc._flush();
  }
  /**
   * Applies `[index, deleteCount, text]` splices in order, in one call into WebAssembly and
   * one transaction (or part of the open one), all or nothing.
   */
  applyPatches(patches) {
    const doc = this._doc;
    const raw = doc._raw;
    const n = patches.length;
    // Packed straight into the module's memory, where the call reads them: the patches as
    // `index, deleteCount, insertLength` triples and the inserted strings' UTF-16 code
    // units (no JS arrays to allocate, copy in and collect; no joined string to encode).
    const memory = wasmMemory();
    let cap = Math.max(64, n);
    let w = 0;
    try {
      const opsAt = raw.patch_ops(n * 3);
      let unitsAt = raw.patch_units(cap);
      let ops = new Uint32Array(memory.buffer, opsAt, n * 3);
      let units = new Uint16Array(memory.buffer, unitsAt, cap);
      for (let i = 0, j = 0; i < n; i++, j += 3) {
        const p = patches[i];
        const s = p[2] ?? '';
        if (typeof s !== 'string') throw new TypeError(`patch ${i}: text must be a string`);
        const len = s.length;
        ops[j] = index(p[0], 'index');
        ops[j + 1] = index(p[1], 'deleteCount');
        ops[j + 2] = len;
        if (w + len > cap) {
          cap = Math.max(cap * 2, w + len);
          unitsAt = raw.patch_units(cap);
          // The memory may have grown: views of the old buffer are empty now.
          ops = new Uint32Array(memory.buffer, opsAt, n * 3);
          units = new Uint16Array(memory.buffer, unitsAt, cap);
        }
        for (let k = 0; k < len; k++) units[w++] = s.charCodeAt(k);
      }
    } catch (e) {
      // A malformed patch: free what was packed (other errors come from the module itself).
      if (e instanceof TypeError || e instanceof RangeError) raw.release_packed();
      throw convert(e);
    }
    try {
      raw.text_apply_packed(this._h, n, w);
    } catch (e) {
      throw convert(e);
    }
    if (doc._subs.size !== 0) doc._flush();
  }
  /**
   * applyPatches() with the patches pre-encoded: `ops` holds `index, deleteCount,
   * insertLength` triples (UTF-16 units) and `inserted` the inserted strings concatenated.
   */
  applyEncodedPatches(ops, inserted) {
    const doc = this._doc;
    try {
      doc._raw.text_apply_patches(this._h, ops, inserted);
    } catch (e) {
      throw convert(e);
    }
    if (doc._subs.size !== 0) doc._flush();
  }
  /** The length in UTF-16 code units. */
  get length() {
    try {
      return this._doc._raw.text_len(this._h);
    } catch (e) {
      throw convert(e);
    }
  }
  /** The text's content. */
  toString() {
    try {
      return this._doc._raw.text(this._h);
    } catch (e) {
      throw convert(e);
    }
  }
  toJSON() {
    return this.toString();
  }
}

/** A map from string keys to values and nested containers (last writer wins per key). */
export class MapRef extends ContainerRef {
  get kind() {
    return 'map';
  }
  /** Sets `key` to `value`. */
  set(key, value) {
    const doc = this._doc;
    try {
      doc._raw.map_set(this._h, key, value);
    } catch (e) {
      throw convert(e);
    }
    if (doc._subs.size !== 0) doc._flush();
    return this;
  }
  /** Sets every entry of an object (or of an iterable of `[key, value]`) as one edit. */
  setMany(entries) {
    const pairs =
      typeof entries[Symbol.iterator] === 'function' ? Array.from(entries) : Object.entries(entries);
    const keys = pairs.map((p) => p[0]);
    const values = pairs.map((p) => p[1]);
    const doc = this._doc;
    try {
      doc._raw.map_set_batch(this._h, keys, values);
    } catch (e) {
      throw convert(e);
    }
    if (doc._subs.size !== 0) doc._flush();
    return this;
  }
  /** Creates a new container of `kind` under `key` and returns it. */
  insertContainer(key, kind) {
    const k = kindNumber(kind);
    const doc = this._doc;
    let h;
    try {
      h = doc._raw.map_insert_container(this._h, key, k);
    } catch (e) {
      throw convert(e);
    }
    const ref = doc._ref(h, k);
    if (doc._subs.size !== 0) doc._flush();
    return ref;
  }
  /** Removes `key`. */
  delete(key) {
    const doc = this._doc;
    try {
      doc._raw.map_delete(this._h, key);
    } catch (e) {
      throw convert(e);
    }
    if (doc._subs.size !== 0) doc._flush();
  }
  /** The value or container under `key`, or `undefined`. */
  get(key) {
    try {
      return this._doc._item(this._doc._raw.map_get(this._h, key));
    } catch (e) {
      throw convert(e);
    }
  }
  /** Whether `key` is set. */
  has(key) {
    return this.get(key) !== undefined;
  }
  /** The keys in ascending order. */
  keys() {
    try {
      return this._doc._raw.map_keys(this._h);
    } catch (e) {
      throw convert(e);
    }
  }
  /** `[key, value]` pairs in key order. */
  entries() {
    let raw;
    try {
      raw = this._doc._raw.map_entries(this._h);
    } catch (e) {
      throw convert(e);
    }
    for (const e of raw) e[1] = this._doc._item(e[1]);
    return raw;
  }
  /** The values in key order. */
  values() {
    return this.entries().map((e) => e[1]);
  }
  /** The number of keys. */
  get size() {
    return this.keys().length;
  }
  [Symbol.iterator]() {
    return this.entries()[Symbol.iterator]();
  }
}

/** An ordered list of values and nested containers. */
export class ListRef extends ContainerRef {
  get kind() {
    return 'list';
  }
  _edit(f) {
    const doc = this._doc;
    try {
      f(doc._raw);
    } catch (e) {
      throw convert(e);
    }
    if (doc._subs.size !== 0) doc._flush();
  }
  /** Inserts `values` at `index`, in order, as one edit. */
  insert(index_, ...values) {
    this.insertMany(index_, values);
  }
  /** Inserts an array of values at `index` as one edit. */
  insertMany(index_, values) {
    const i = index(index_, 'index');
    const vals = Array.from(values);
    if (allNumbers(vals)) {
      this._edit((raw) => raw.list_insert_numbers(this._h, i, Float64Array.from(vals)));
    } else {
      this._edit((raw) => raw.list_insert(this._h, i, vals));
    }
  }
  /** Appends `values` as one edit; returns the new length. */
  push(...values) {
    if (allNumbers(values)) {
      this._edit((raw) => raw.list_insert_numbers(this._h, undefined, Float64Array.from(values)));
    } else {
      this._edit((raw) => raw.list_push(this._h, values));
    }
    return this.length;
  }
  /** Deletes `count` elements (default 1) from `index`. */
  delete(index_, count = 1) {
    const i = index(index_, 'index');
    const n = index(count, 'count');
    this._edit((raw) => raw.list_delete(this._h, i, n));
  }
  /** Creates a new container of `kind` at `index` and returns it. */
  insertContainer(index_, kind) {
    const i = index(index_, 'index');
    const k = kindNumber(kind);
    let h;
    this._edit((raw) => {
      h = raw.list_insert_container(this._h, i, k);
    });
    return this._doc._ref(h, k);
  }
  /** Appends a new container of `kind` and returns it. */
  pushContainer(kind) {
    return this.insertContainer(this.length, kind);
  }
  /** The element at `index`, or `undefined`. */
  get(index_) {
    try {
      return this._doc._item(this._doc._raw.list_get(this._h, index(index_, 'index')));
    } catch (e) {
      throw convert(e);
    }
  }
  /** The number of elements. */
  get length() {
    try {
      return this._doc._raw.list_len(this._h);
    } catch (e) {
      throw convert(e);
    }
  }
  /** Every element, in order. */
  toArray() {
    let raw;
    try {
      raw = this._doc._raw.list_items(this._h);
    } catch (e) {
      throw convert(e);
    }
    for (let i = 0; i < raw.length; i++) raw[i] = this._doc._item(raw[i]);
    return raw;
  }
  [Symbol.iterator]() {
    return this.toArray()[Symbol.iterator]();
  }
}

/** A counter: concurrent additions add up. */
export class CounterRef extends ContainerRef {
  get kind() {
    return 'counter';
  }
  /** Adds `amount` (default 1; negative to subtract). */
  add(amount = 1) {
    const doc = this._doc;
    try {
      doc._raw.counter_add(this._h, amount);
    } catch (e) {
      throw convert(e);
    }
    if (doc._subs.size !== 0) doc._flush();
  }
  /** The current value (a bigint only beyond Number.MAX_SAFE_INTEGER). */
  get value() {
    try {
      return this._doc._raw.counter(this._h);
    } catch (e) {
      throw convert(e);
    }
  }
}

/** One value, last writer wins. */
export class RegisterRef extends ContainerRef {
  get kind() {
    return 'register';
  }
  /** Writes `value`. */
  set(value) {
    const doc = this._doc;
    try {
      doc._raw.register_set(this._h, value);
    } catch (e) {
      throw convert(e);
    }
    if (doc._subs.size !== 0) doc._flush();
  }
  /** The value, or `undefined` if never written. */
  get() {
    try {
      return this._doc._raw.register(this._h);
    } catch (e) {
      throw convert(e);
    }
  }
}

/** A set of values; a concurrent add wins over a remove. */
export class SetRef extends ContainerRef {
  get kind() {
    return 'set';
  }
  _edit(f) {
    const doc = this._doc;
    try {
      f(doc._raw);
    } catch (e) {
      throw convert(e);
    }
    if (doc._subs.size !== 0) doc._flush();
  }
  /** Adds `value`. */
  add(value) {
    this._edit((raw) => raw.set_add(this._h, [value]));
    return this;
  }
  /** Adds every value as one edit. */
  addMany(values) {
    this._edit((raw) => raw.set_add(this._h, Array.from(values)));
    return this;
  }
  /** Removes `value`. */
  delete(value) {
    this._edit((raw) => raw.set_remove(this._h, [value]));
  }
  /** Removes every value as one edit. */
  deleteMany(values) {
    this._edit((raw) => raw.set_remove(this._h, Array.from(values)));
  }
  /** Whether the set holds `value`. */
  has(value) {
    try {
      return this._doc._raw.set_has(this._h, value);
    } catch (e) {
      throw convert(e);
    }
  }
  /** The values in ascending order. */
  values() {
    try {
      return this._doc._raw.set_values(this._h);
    } catch (e) {
      throw convert(e);
    }
  }
  /** The number of values. */
  get size() {
    return this.values().length;
  }
  [Symbol.iterator]() {
    return this.values()[Symbol.iterator]();
  }
}

const REF_CLASSES = [MapRef, ListRef, TextRef, CounterRef, RegisterRef, SetRef];

/** The size of the WebAssembly memory in bytes; it grows and never shrinks. */
export function wasmMemoryBytes() {
  return rawMemoryBytes();
}
