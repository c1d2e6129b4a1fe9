// A typed example that uses every public method; `tsc --strict --noEmit` must accept it.
import {
  init,
  initSync,
  wasmMemoryBytes,
  Doc,
  ConvergeError,
  DecodeError,
  OutOfBoundsError,
  InvalidPositionError,
  WrongKindError,
  UnknownContainerError,
  InvalidUpdateError,
  ConflictError,
  BudgetExceededError,
  TooDeepError,
  TransactionError,
  type ApplyReport,
  type DocOptions,
  type ChangeEvent,
  type Change,
  type Container,
  type ContainerKind,
  type ErrorCode,
  type Item,
  type JsonValue,
  type Value,
  TextRef,
  MapRef,
  ListRef,
  CounterRef,
  RegisterRef,
  SetRef,
} from 'converge-crdt';

async function main(): Promise<void> {
  await init();
  initSync();
  const bytesBefore: number = wasmMemoryBytes();

  const doc = new Doc(1);
  const other: Doc = new Doc(2n);
  const random = new Doc();
  const limited = new Doc(3, { memoryLimit: 1 << 20 });
  const opts: DocOptions = { memoryLimit: 1000 };
  Doc.load(limited.save(), opts).free();
  limited.free();
  const id: bigint = doc.replicaId;

  const text: TextRef = doc.getText('title');
  text.insert(0, 'hello');
  text.delete(0, 1);
  text.splice(0, 0, 'H');
  text.splice(1, 1);
  text.applyPatches([[0, 0, 'a'], [0, 1], [0, 0, 'b']]);
  text.applyEncodedPatches(new Uint32Array([0, 0, 1]), 'c');
  const len: number = text.length;
  const s: string = text.toString();
  const sj: string = text.toJSON();

  const map: MapRef = doc.getMap('m');
  map.set('a', 1).set('b', 'two').set('c', null).set('d', true).set('e', 3n);
  map.set('f', new Uint8Array([1]));
  map.setMany({ g: 1, h: 'x' });
  map.setMany([['i', 2]] as const);
  const nestedText: TextRef = map.insertContainer('body', 'text');
  const nestedList: ListRef = map.insertContainer('items', 'list');
  map.delete('a');
  const got: Item | undefined = map.get('b');
  if (got instanceof TextRef) got.insert(0, '');
  const has: boolean = map.has('b');
  const keys: string[] = map.keys();
  const values: Item[] = map.values();
  const entries: [string, Item][] = map.entries();
  const size: number = map.size;
  for (const [k, v] of map) console.log(k, v);
  const mj: { [key: string]: JsonValue } = map.toJSON();

  const list: ListRef = doc.getList('l');
  list.insert(0, 'a', 'b');
  list.insertMany(0, ['c']);
  const newLen: number = list.push(1, 2);
  list.delete(0);
  list.delete(0, 1);
  const counterInList: CounterRef = list.insertContainer(0, 'counter');
  const setInList: SetRef = list.pushContainer('set');
  const first: Item | undefined = list.get(0);
  const ll: number = list.length;
  const arr: Item[] = list.toArray();
  for (const item of list) console.log(item);
  const lj: JsonValue[] = list.toJSON();

  const counter: CounterRef = doc.getCounter('c');
  counter.add();
  counter.add(2);
  counter.add(3n);
  const cv: number | bigint = counter.value;
  const cj: number | bigint = counter.toJSON();

  const reg: RegisterRef = doc.getRegister('r');
  reg.set('v');
  const rv: Value | undefined = reg.get();
  const rj: Value = reg.toJSON();

  const set: SetRef = doc.getSet('s');
  set.add('a').add(1);
  set.addMany(['b', 'c']);
  set.delete('a');
  set.deleteMany(['b']);
  const sh: boolean = set.has('c');
  const sv: Value[] = set.values();
  const ss: number = set.size;
  for (const v of set) console.log(v);
  const setj: Value[] = set.toJSON();

  const kind: ContainerKind = text.kind;
  const owner: Doc = text.doc;
  const c: Container = nestedList;

  doc.begin();
  text.insert(0, 'x');
  const open: boolean = doc.inTransaction;
  doc.commit();
  doc.begin();
  doc.rollback();
  const n: number = doc.transact((d: Doc) => {
    d.getText('title').insert(0, 'y');
    return 1;
  });

  const off: () => void = doc.subscribe((e: ChangeEvent) => {
    const origin: 'local' | 'remote' = e.origin;
    for (const ch of e.changes) {
      const change: Change = ch;
      switch (change.type) {
        case 'keys': console.log(change.keys.join(','), change.container.kind); break;
        case 'range': console.log(change.start, change.removed, change.inserted); break;
        case 'value': console.log(change.container.toJSON()); break;
      }
    }
    console.log(origin);
  });
  off();

  const v: Uint8Array = doc.version();
  const upd: Uint8Array = doc.encodeUpdatesSince(other.version());
  const all: Uint8Array = doc.encodeUpdatesSince();
  const report: ApplyReport = other.applyUpdate(upd);
  const counts: number = report.applied + report.duplicates + report.pending + report.rejected;
  const missing: Uint8Array = report.missing;
  const merged: Uint8Array = Doc.mergeUpdates([upd, all]);
  const saved: Uint8Array = doc.save();
  const history: Uint8Array = doc.saveHistory();
  Doc.load(history).free();
  const loaded: Doc = Doc.load(saved);
  const pending: number = loaded.pendingCount;
  const used: number = loaded.memoryUsed;
  const json: { [root: string]: JsonValue } = loaded.toJSON();

  try {
    Doc.load(new Uint8Array([1]));
  } catch (e) {
    if (e instanceof ConvergeError) {
      const code: ErrorCode | (string & {}) = e.code;
      console.log(code, e.message);
    }
    const classes = [DecodeError, OutOfBoundsError, InvalidPositionError, WrongKindError,
      UnknownContainerError, InvalidUpdateError, ConflictError, BudgetExceededError,
      TooDeepError, TransactionError];
    console.log(classes.some((C) => e instanceof C));
  }

  {
    using scoped = new Doc(5);
    scoped.getText('t').insert(0, 'freed at the end of the block');
  }
  random.free();
  doc.free();
  other[Symbol.dispose]();
  loaded.free();
  console.log(id, len, s, sj, nestedText, got, has, keys, values, entries, size, mj, newLen,
    counterInList, setInList, first, ll, arr, lj, cv, cj, rv, rj, sh, sv, ss, setj, kind, owner,
    c, open, n, v, counts, missing, merged, pending, used, json, bytesBefore);
}

void main();
