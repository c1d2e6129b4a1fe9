//! Atomic apply: bad input leaves a document byte-for-byte unchanged.
