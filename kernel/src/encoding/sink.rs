//! The one postcard output the kernel serializes into when it has a heap.
//!
//! Every postcard flavor instantiates the whole `Serialize` tree of a type once more (for an
//! update: operations, sequence ops, values, version vectors), so sizing with
//! `ser_flavors::Size`, writing with `Slice`, `ExtendFlavor` and `AllocVec` made four copies of
//! it in a binary. [`Sink`] serves all of those uses: it appends to a `Vec<u8>` (a capacity
//! check and a store per byte, like `AllocVec`).

use alloc::vec::Vec;

use postcard::ser_flavors::Flavor;
use serde::Serialize;

/// A postcard flavor that appends to a `Vec<u8>`.
pub(crate) struct Sink {
    bytes: Vec<u8>,
}

impl Flavor for Sink {
    type Output = Sink;

    #[inline]
    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        self.bytes.push(byte);
        Ok(())
    }

    #[inline]
    fn try_extend(&mut self, bytes: &[u8]) -> postcard::Result<()> {
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<Sink> {
        Ok(self)
    }
}

/// Appends `value`'s postcard encoding to `out` and returns it.
pub(crate) fn append<T: Serialize + ?Sized>(value: &T, out: Vec<u8>) -> postcard::Result<Vec<u8>> {
    let sink = Sink { bytes: out };
    postcard::serialize_with_flavor(value, sink).map(|s| s.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec;

    #[test]
    fn writes_and_counts_what_postcard_writes() {
        let value = (
            7u64,
            String::from("héllo"),
            vec![1u32, 300, 70_000],
            Some(-3i16),
        );
        let want = postcard::to_allocvec(&value).unwrap();
        assert_eq!(append(&value, vec![9, 9]).unwrap()[2..], want[..]);
        assert_eq!(append(&value, Vec::new()).unwrap(), want);
    }
}
