// Run from a fresh project where the packed tarball is installed: the ESM entry point.
import assert from 'node:assert/strict';
import { Doc, ConvergeError } from 'converge-crdt';

const a = new Doc(1);
const b = new Doc(2);
a.getText('t').insert(0, 'hello');
b.getMap('m').set('k', 'v');
b.applyUpdate(a.encodeUpdatesSince(b.version()));
a.applyUpdate(b.encodeUpdatesSince(a.version()));
assert.equal(a.getMap('m').get('k'), 'v');
assert.deepEqual(a.toJSON(), { m: { k: 'v' }, t: 'hello' });
const c = Doc.load(a.save());
assert.equal(c.getText('t').toString(), 'hello');
c.getMap('m');
assert.deepEqual(c.toJSON(), a.toJSON());
assert.throws(() => a.applyUpdate(new Uint8Array([1])), ConvergeError);
a.free();
b.free();
console.log('esm ok');
