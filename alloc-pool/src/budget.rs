//! A byte budget: a document's cap on what untrusted input can make it allocate.

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

/// Counts bytes reserved against a limit.
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

    /// Gives back `bytes` reserved earlier.
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
