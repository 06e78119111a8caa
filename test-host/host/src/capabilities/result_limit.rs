//! The most one database query may hand a guest: rows are counted as they arrive, and a
//! query that would return more than [`MAX_QUERY_RESULT_BYTES`] fails with an error that
//! says so, instead of the host holding an unbounded result in memory first.

/// The most one query result may hold, counted over its values (text and binary by length,
/// anything else as 16 bytes) and 16 bytes per row.
pub const MAX_QUERY_RESULT_BYTES: usize = 32 << 20;

/// What a row costs beyond its values.
const PER_ROW: usize = 16;

/// What a value other than text or bytes costs.
pub const SMALL_VALUE: usize = 16;

/// The bytes one query result has used so far.
#[derive(Debug, Default)]
pub struct ResultBudget {
    used: usize,
    limit: usize,
}

impl ResultBudget {
    /// A budget of [`MAX_QUERY_RESULT_BYTES`].
    pub fn new() -> Self {
        Self::with_limit(MAX_QUERY_RESULT_BYTES)
    }

    /// A budget of `limit` bytes.
    pub fn with_limit(limit: usize) -> Self {
        ResultBudget { used: 0, limit }
    }

    /// Counts one more row whose values take `bytes`; the error is the guest's message.
    pub fn add_row(&mut self, bytes: usize) -> Result<(), String> {
        self.used = self.used.saturating_add(bytes).saturating_add(PER_ROW);
        if self.used > self.limit {
            return Err(format!(
                "the query returns more than the {} MiB a result may hold; select fewer rows or columns (LIMIT, paging)",
                self.limit >> 20
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_over_the_limit_is_refused() {
        let mut budget = ResultBudget::with_limit(1 << 20);
        for _ in 0..1000 {
            budget.add_row(1000).unwrap();
        }
        let error = budget.add_row(100_000).unwrap_err();
        assert!(error.contains("1 MiB"), "{error}");
    }
}
