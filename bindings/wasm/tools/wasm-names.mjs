// Reads and rewrites the function names of a WebAssembly module (its `name` custom section).
//
// Used by build.mjs, which orders the package's functions by name so that the copies of one
// generic function sit next to each other (gzip only finds repeats within 32 KB), and by
// bench/size.mjs, which groups functions by name to see where the bytes go.

/** Reads the unsigned LEB128 number at `at` of `bytes`: `[value, next offset]`. */
function leb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (at >= bytes.length) throw new Error('truncated WebAssembly module');
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [value, at];
  }
}

/** The unsigned LEB128 encoding of `n`. */
export function uleb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
}

/**
 * The module's sections (`{ id, start, body, end }`, byte offsets), how many functions it
 * imports, its function bodies (`[start, end]`, in function order after the imports) and the
 * names of its functions (function index to name, from the `name` section when present).
 */
export function readModule(bytes) {
  const sections = [];
  for (let at = 8; at < bytes.length; ) {
    const start = at;
    const id = bytes[at++];
    const [size, body] = leb(bytes, at);
    sections.push({ id, start, body, end: body + size });
    at = body + size;
  }
  let imported = 0;
  const bodies = [];
  const names = new Map();
  for (const s of sections) {
    if (s.id === 2) {
      let [count, at] = leb(bytes, s.body);
      for (let i = 0; i < count; i++) {
        for (let k = 0; k < 2; k++) {
          const [len, next] = leb(bytes, at);
          at = next + len;
        }
        const kind = bytes[at++];
        if (kind === 0) {
          imported++;
          at = leb(bytes, at)[1];
        } else if (kind === 1 || kind === 2) {
          if (kind === 1) at++;
          const flags = bytes[at++];
          at = leb(bytes, at)[1];
          if (flags & 1) at = leb(bytes, at)[1];
        } else {
          at += 2;
        }
      }
    } else if (s.id === 10) {
      let [count, at] = leb(bytes, s.body);
      for (let i = 0; i < count; i++) {
        const [len, next] = leb(bytes, at);
        bodies.push([next, next + len]);
        at = next + len;
      }
    } else if (isNameSection(bytes, s)) {
      const [len, at] = leb(bytes, s.body);
      for (let sub = at + len; sub < s.end; ) {
        const kind = bytes[sub];
        const [size, content] = leb(bytes, sub + 1);
        if (kind === 1) {
          let [count, p] = leb(bytes, content);
          for (let i = 0; i < count; i++) {
            const [idx, q] = leb(bytes, p);
            const [n, r] = leb(bytes, q);
            names.set(idx, bytes.toString('utf8', r, r + n));
            p = r + n;
          }
        }
        sub = content + size;
      }
    }
  }
  return { sections, imported, bodies, names };
}

function isNameSection(bytes, s) {
  if (s.id !== 0) return false;
  const [len, at] = leb(bytes, s.body);
  return bytes.toString('latin1', at, at + len) === 'name';
}

/**
 * A function's path: Rust's legacy mangling (`_ZN...E`) undone, the hash suffix dropped, and
 * the rank prefix `withFunctionNames` gives (`000123 `) removed.
 */
export function demangle(name) {
  name = name.replace(/^\d+ /, '');
  if (!name.startsWith('_ZN')) return name.replace(/::h[0-9a-f]{16}$/, '');
  const parts = [];
  for (let at = 3; at < name.length && name[at] !== 'E'; ) {
    const m = /^\d+/.exec(name.slice(at));
    if (!m) break;
    at += m[0].length;
    parts.push(name.slice(at, at + Number(m[0])));
    at += Number(m[0]);
  }
  if (/^h[0-9a-f]{16}$/.test(parts.at(-1) ?? '')) parts.pop();
  return parts
    .join('::')
    .replaceAll('$LT$', '<')
    .replaceAll('$GT$', '>')
    .replaceAll('$u20$', ' ')
    .replaceAll('$C$', ',')
    .replaceAll('$RF$', '&')
    .replaceAll('..', '::');
}

/** `bytes` without its `name` section (the other custom sections kept). */
export function withoutNames(bytes) {
  const { sections } = readModule(bytes);
  const parts = [bytes.subarray(0, 8)];
  for (const s of sections) if (!isNameSection(bytes, s)) parts.push(bytes.subarray(s.start, s.end));
  return Buffer.concat(parts);
}

/**
 * `bytes` with every defined function renamed `nameOf(i)` (i counts from the first defined
 * function), in a `name` section that replaces the old one.
 */
export function withFunctionNames(bytes, nameOf) {
  const { imported, bodies } = readModule(bytes);
  const entries = [uleb(bodies.length)];
  bodies.forEach((_, i) => {
    const name = Buffer.from(nameOf(i));
    entries.push(uleb(imported + i), uleb(name.length), name);
  });
  const functions = Buffer.concat(entries);
  const content = Buffer.concat([uleb(4), Buffer.from('name'), Buffer.from([1]), uleb(functions.length), functions]);
  return Buffer.concat([withoutNames(bytes), Buffer.from([0]), uleb(content.length), content]);
}

/**
 * Names that sort the functions by path, generic arguments ignored, so that the copies of a
 * generic function are neighbours: `<rank> <old name>`, the rank zero-padded.
 */
export function groupedByPath(bytes) {
  const { imported, bodies, names } = readModule(bytes);
  const old = bodies.map((_, i) => names.get(imported + i) ?? `func${imported + i}`);
  const key = old.map((n) => {
    let path = demangle(n);
    for (let shorter; (shorter = path.replace(/<[^<>]*>/g, '')) !== path; ) path = shorter;
    return `${path} ${demangle(n)}`;
  });
  const byKey = old.map((_, i) => i).sort((a, b) => (key[a] < key[b] ? -1 : key[a] > key[b] ? 1 : a - b));
  const rank = new Array(old.length);
  byKey.forEach((f, r) => (rank[f] = r));
  const width = String(old.length).length;
  return withFunctionNames(bytes, (i) => `${String(rank[i]).padStart(width, '0')} ${old[i]}`);
}
