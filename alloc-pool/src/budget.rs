//! A byte budget: a document's cap on what untrusted input can make it allocate.
//!
//! Owns only two counters. Invariant: `used() <= limit()`; a reservation that would break it is
//! refused with [`BudgetExceeded`] and changes nothing. The budget does not allocate or free
//! anything itself: callers reserve before they grow and release after they shrink.

use core::fmt;

/// Returned when a reservation would go over the budget. Nothing was reserved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetExceeded {
    /// Bytes asked for.
    pub requested: usize,
    /// Bytes that were still available.
    pub available: usize,
}

impl fmt::Display for BudgetExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "memory budget exceeded: requested {} bytes, {} available",
            self.requested, self.available
        )
    }
}

impl core::error::Error for BudgetExceeded {}

/// Counts bytes reserved against a limit; going over is an `Err`, never a panic or an abort.
///
/// ```
/// use converge_pool::Budget;
///
/// let mut budget = Budget::new(100);
/// budget.try_reserve(60).unwrap();
/// let err = budget.try_reserve(60).unwrap_err();
/// assert_eq!((err.requested, err.available), (60, 40));
/// assert_eq!(budget.used(), 60); // the failed reservation took nothing
/// budget.release(60);
/// assert_eq!(budget.available(), 100);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    limit: usize,
    used: usize,
}

impl Budget {
    /// A budget of `limit` bytes.
    pub const fn new(limit: usize) -> Self {
        Self { limit, used: 0 }
    }

    /// A budget that never runs out.
    pub const fn unlimited() -> Self {
        Self::new(usize::MAX)
    }

    /// Reserves `bytes`, or fails without reserving anything.
    pub fn try_reserve(&mut self, bytes: usize) -> Result<(), BudgetExceeded> {
        let available = self.available();
        if bytes > available {
            return Err(BudgetExceeded {
                requested: bytes,
                available,
            });
        }
        self.used += bytes;
        Ok(())
    }

    /// Reserves room for `count` values of type `T` (`count * size_of::<T>()` bytes) and
    /// returns the bytes reserved, or fails without reserving anything. If the product overflows
    /// `usize`, the error reports `requested: usize::MAX`. Useful before decoding a
    /// length-prefixed sequence from untrusted input.
    pub fn try_reserve_items<T>(&mut self, count: usize) -> Result<usize, BudgetExceeded> {
        let bytes = count
            .checked_mul(core::mem::size_of::<T>())
            .ok_or(BudgetExceeded {
                requested: usize::MAX,
                available: self.available(),
            })?;
        self.try_reserve(bytes)?;
        Ok(bytes)
    }

    /// Gives back `bytes` reserved earlier. Releasing more than is in use empties the budget.
    pub fn release(&mut self, bytes: usize) {
        self.used = self.used.saturating_sub(bytes);
    }

    /// Bytes reserved so far.
    pub const fn used(&self) -> usize {
        self.used
    }

    /// The limit.
    pub const fn limit(&self) -> usize {
        self.limit
    }

    /// Whether this budget was made by [`unlimited`](Self::unlimited) (limit `usize::MAX`).
    pub const fn is_unlimited(&self) -> bool {
        self.limit == usize::MAX
    }

    /// Bytes still available.
    pub const fn available(&self) -> usize {
        self.limit - self.used
    }
}

impl Default for Budget {
    fn default() -> Self {
        Self::unlimited()
    }
}
