// A Vite-bundled page: explicit init(), then two documents edit and sync.
import { init, Doc, DecodeError } from 'converge-crdt';

init().then(() => {
  const alice = new Doc(1);
  const bob = new Doc(2);
  const events = [];
  bob.subscribe((e) => events.push(e.origin));
  alice.getText('t').insert(0, 'Hello from Alice 😀');
  bob.getText('t').insert(0, 'Bob: ');
  bob.getList('todo').push('milk', 'eggs');
  bob.applyUpdate(alice.encodeUpdatesSince(bob.version()));
  alice.applyUpdate(bob.encodeUpdatesSince(alice.version()));
  alice.getList('todo'); // names the root for toJSON()
  let decode = '';
  try {
    alice.applyUpdate(new Uint8Array([1, 2, 3]));
  } catch (e) {
    decode = e instanceof DecodeError ? e.code : String(e);
  }
  document.getElementById('alice').value = alice.getText('t').toString();
  document.getElementById('bob').value = bob.getText('t').toString();
  window.__result = {
    alice: alice.toJSON(),
    bob: bob.toJSON(),
    same: JSON.stringify(alice.toJSON()) === JSON.stringify(bob.toJSON()),
    events,
    decode,
    userAgent: navigator.userAgent,
  };
});
