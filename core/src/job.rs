//! The job: one typed description of what a map task computes (its keys,
//! filters and input, and what it computes: value columns and measures),
//! built once from the flags ([`crate::cli::JobArgs::job`]) and validated
//! there; the mapper's [`Plan`], the states' shapes and the reducer's
//! report derive from it.

use crate::agg::{Fields, Shape, What};
use crate::error::Error;
use crate::header::HeaderMode;
use crate::spec::{
    Column, DEFAULT_MAX_MALFORMED, DEFAULT_MAX_MEMORY_MIB, DEFAULT_NA, DEFAULT_TEXT_NA, Na, Test,
};
use crate::spec::{DEFAULT_MAX_GROUPS, Where};

/// Everything a map task needs, as the user gave it.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// The value columns and the measures.
    pub what: What,
    pub keys: Vec<Column>,
    /// Key fields grouped and shown exactly as written (no numeric
    /// canonicalisation: `007` stays `007`).
    pub text_keys: bool,
    /// Field texts that mean "missing" in a number column (compared after
    /// trimming spaces).
    pub na: Na,
    /// Field texts that mean "missing" in a text column (keys, distinct
    /// counts, text comparisons).
    pub text_na: Na,
    pub schema: Option<Vec<Vec<u8>>>,
    pub delimiter: u8,
    /// How each file's first record is taken.
    pub header: HeaderMode,
    pub wheres: Vec<Where>,
    pub max_malformed: f64,
    pub max_groups: usize,
    /// Bytes the groups may hold before the least-hit are written out.
    pub max_bytes: usize,
    /// Each input file is one split (records may span lines).
    pub whole_files: bool,
    /// Text, or a binary array's rows.
    pub input: crate::binary::Input,
}

impl Default for Job {
    fn default() -> Self {
        Self {
            what: What::default(),
            keys: Vec::new(),
            text_keys: false,
            na: Na::parse(DEFAULT_NA),
            text_na: Na::parse(DEFAULT_TEXT_NA),
            schema: None,
            delimiter: b',',
            header: HeaderMode::Auto,
            wheres: Vec::new(),
            max_malformed: DEFAULT_MAX_MALFORMED,
            max_groups: DEFAULT_MAX_GROUPS,
            max_bytes: DEFAULT_MAX_MEMORY_MIB << 20,
            whole_files: false,
            input: crate::binary::Input::Text,
        }
    }
}

impl Job {
    /// The shape of each value column's state (see [`What::shapes`]).
    pub fn shapes(&self) -> Vec<Shape> {
        self.what.shapes()
    }

    /// True when some column is referenced by name.
    pub fn needs_names(&self) -> bool {
        !self.named_columns().is_empty()
    }

    /// The columns referenced by name (not by index), in flag order.
    pub fn named_columns(&self) -> Vec<&str> {
        self.what
            .values
            .iter()
            .chain(&self.keys)
            .chain(self.wheres.iter().map(|w| &w.column))
            .chain(self.what.measures.columns())
            .filter(|c| c.is_name())
            .map(|c| c.0.as_str())
            .collect()
    }
}

/// A job bound to a schema: field indices, ready for the hot loop.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The value columns' field indices, in flag order.
    pub values: Vec<usize>,
    pub keys: Vec<usize>,
    pub wheres: Vec<(usize, Test)>,
    /// The fields each group measure reads.
    pub fields: Fields,
    /// Fields a line must have (the schema's width), when known.
    pub width: Option<usize>,
    /// The highest field index the plan reads.
    pub max_field: usize,
    /// Whether lines feed group measures (distinct counts, column pairs):
    /// one test a line for the rest.
    pub extras: bool,
}

impl Plan {
    pub fn bind(job: &Job, schema: Option<&[Vec<u8>]>) -> Result<Self, Error> {
        let resolve = |cols: &[Column]| {
            cols.iter()
                .map(|c| c.resolve(schema))
                .collect::<Result<Vec<_>, _>>()
        };
        let values = resolve(&job.what.values)?;
        let keys = resolve(&job.keys)?;
        let wheres = job
            .wheres
            .iter()
            .map(|w| Ok((w.column.resolve(schema)?, w.test.clone())))
            .collect::<Result<Vec<_>, Error>>()?;
        let fields = job.what.measures.bind(schema)?;
        let max_field = keys
            .iter()
            .chain(wheres.iter().map(|w| &w.0))
            .chain(&values)
            .copied()
            .chain(fields.indices())
            .fold(0, usize::max);
        let width = schema.map(<[_]>::len);
        if let Some(w) = width
            && max_field >= w
        {
            return Err(Error::Flag {
                flag: "--value/--key/--where or a measure's",
                value: format!("column {}", max_field + 1),
                why: format!("the schema has only {w} columns"),
            });
        }
        let extras = fields != Fields::default();
        Ok(Self {
            values,
            keys,
            wheres,
            fields,
            width,
            max_field,
            extras,
        })
    }
}
