//! The number of rows of a group, for jobs without `--value`.

super::tally! {
    /// Rows per key when the job counts rows (no `--value`): word counts,
    /// page views, flights per destination. The mapper counts them with
    /// `add`; a job with a value column never touches it, which is how the
    /// reducer tells the two apart. Identity: zero.
    Rows, tag: "r", json: "count", what: "row count"
}
