//! How many of a group's rows had no value (`NA`, an empty field, ...).

super::tally! {
    /// Rows of the group whose value was missing (see `--na-values`): kept
    /// out of every statistic, counted here as SQL's `count(*) - count(x)`
    /// would. The mapper counts them with `add`; values never reach it.
    /// Identity: zero.
    Missing, tag: "na", json: "missing", what: "missing count"
}
