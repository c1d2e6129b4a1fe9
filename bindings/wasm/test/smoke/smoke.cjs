// Run from a fresh project where the packed tarball is installed: the CommonJS entry point.
const assert = require('node:assert/strict');
const { Doc, DecodeError } = require('converge-crdt');

const a = new Doc(1);
a.getList('l').push(1, 'two', null);
const b = Doc.load(a.save());
b.getList('l');
assert.deepEqual(b.toJSON(), { l: [1, 'two', null] });
assert.throws(() => Doc.load(new Uint8Array([1, 2])), DecodeError);
console.log('cjs ok');
