//! mapfold's core: exact, mergeable partial aggregates and the Hadoop
//! streaming protocol spoken by `mapfold-map`, `mapfold-combine` and
//! `mapfold-reduce`.
//!
//! Data flow: [`map::Mapper`] parses lines ([`record`]) under a job
//! ([`job`]), folds values into per-key [`agg::Aggregates`], and writes wire
//! records ([`wire`], keys per [`key`]); Hadoop (or `sort`) orders them;
//! [`fold::fold`] merges runs of equal keys and finishes them into JSON.
//! Sums are exact ([`superacc`]) and rounded once ([`round`]), so results do
//! not depend on how the input was split or how often partials were merged.

pub mod agg;
pub mod binary;
pub mod counters;
mod decimal;
pub mod derive;
pub mod error;
pub mod fold;
pub mod group;
pub mod header;
pub mod held;
pub mod job;
pub mod json;
pub mod key;
pub mod keys;
pub mod lines;
pub mod map;
pub mod one;
pub mod partition;
pub mod pyfloat;
pub mod record;
pub mod round;
pub mod sizing;
pub mod spec;
pub mod superacc;
pub mod wire;

#[cfg(feature = "cli")]
pub mod cli;

pub use error::{DecodeError, Error};
