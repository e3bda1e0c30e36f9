//! The typed errors of the core library.
//!
//! Binaries wrap these in `anyhow` with context (file, line); the library
//! reports what was wrong and, where it helps, what to do about it.

use std::fmt;

/// A wire record (mapper or combiner output) that does not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    what: &'static str,
    text: String,
    /// Why a record that decodes contradicts itself, if that is the error.
    contradiction: Option<String>,
}

impl DecodeError {
    pub(crate) fn new(what: &'static str, text: &[u8]) -> Self {
        Self {
            what,
            text: snippet(text),
            contradiction: None,
        }
    }

    /// A record that decodes but whose parts disagree, as no mapper's
    /// output does.
    pub(crate) fn contradiction(why: String, text: &[u8]) -> Self {
        Self {
            what: "",
            text: snippet(text),
            contradiction: Some(why),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.contradiction {
            Some(why) => write!(
                f,
                "a partial that contradicts itself ({why}) in {:?}: no mapfold stage writes \
                 that; the data is corrupted or was not written by mapfold",
                self.text
            ),
            None => write!(f, "cannot decode {} from {:?}", self.what, self.text),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Everything the core library can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Io(#[from] std::io::Error),

    #[error(transparent)]
    Decode(#[from] DecodeError),

    #[error("bad {flag} {value:?}: {why}")]
    Flag {
        flag: &'static str,
        value: String,
        why: String,
    },

    #[error(
        "column {name:?} is not in the schema ({schema}); pass --schema, or a 1-based column \
         index{hint}",
        hint = crate::derive::hint(.name)
    )]
    UnknownColumn { name: String, schema: String },

    #[error(
        "column {name:?} is not in the input's header line ({header}); check the name's \
         spelling and case, or pass a 1-based column index{hint}",
        hint = crate::derive::hint(.name)
    )]
    NotInHeader { name: String, header: String },

    #[error(
        "column {name:?} is referenced by name, but this input starts with data, not a header \
         line (its first line has no names, only numbers), and no --schema was given: pass \
         --schema NAME,NAME,... to name its columns, or refer to them by 1-based index"
    )]
    NoSchema { name: String },

    #[error(
        "{malformed} of {lines} input lines are malformed (more than --max-malformed {max}); \
         first at {first}"
    )]
    TooManyMalformed {
        malformed: u64,
        lines: u64,
        max: f64,
        first: String,
    },

    #[error(
        "line {line} of the input: key {key:?} comes after {prev:?}; input must be sorted by \
         key bytes (pipe it through `LC_ALL=C sort`)"
    )]
    Unsorted {
        line: u64,
        key: String,
        prev: String,
    },

    // `why` is not a `source`: it is already in the message, and error
    // chains printed with their causes would say it twice.
    #[error(
        "line {line} of {location} is a header that differs from the schema: {found:?} where \
         the job reads columns as {schema:?}; mapfold reads columns by position, so inputs \
         with different headers cannot be mixed: reorder the columns to one header, or run \
         them as separate jobs"
    )]
    OtherHeader {
        line: u64,
        location: String,
        found: String,
        schema: String,
    },

    #[error(
        "record {line} of {location} has a quoted field that holds a line break: a split of \
         the file may start inside such a record and misread it, so each file must be read \
         whole: run the job with --whole-files"
    )]
    SpansLines { line: u64, location: String },

    #[error(
        "a record of {bytes} bytes, over the {max}-byte limit of a line: the input is not \
         mapfold's map or combine output, or is corrupted"
    )]
    LongRecord { bytes: u64, max: usize },

    #[error("line {line} of the input: {why}")]
    BadRecord { line: u64, why: DecodeError },

    #[error("line {line} of the input: cannot merge partials of key {key:?}: {why}")]
    Merge { line: u64, key: String, why: String },
}

impl Error {
    /// True for a mistake in the job's flags or columns: the same on every
    /// attempt, so a runner should not retry it.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::Flag { .. }
                | Error::UnknownColumn { .. }
                | Error::NoSchema { .. }
                | Error::NotInHeader { .. }
                | Error::OtherHeader { .. }
                | Error::SpansLines { .. }
        )
    }
}

/// A failure that carries its own exit status (an external program's,
/// passed on): the binaries' `exit` uses it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

/// The exit status of a usage error (as clap's own): runners do not retry it.
pub const USAGE_EXIT: u8 = 2;

/// The exit status of a full disk or quota while writing the output: a
/// local runner does not retry it (the same disk); Hadoop may, elsewhere.
pub const NO_SPACE_EXIT: u8 = 3;

/// At most 120 characters of possibly non-UTF-8 bytes, for messages.
pub fn snippet(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    if s.chars().count() > 120 {
        let cut: String = s.chars().take(117).collect();
        format!("{cut}...")
    } else {
        s.into_owned()
    }
}
