//! The job: one typed description of what a map task computes (its keys,
//! filters and input, and what it computes: value columns and measures),
//! built once from the flags ([`crate::cli::JobArgs::job`]) and validated
//! there; the mapper's [`Plan`], the states' shapes and the reducer's
//! report derive from it.

use crate::agg::{Fields, Shape, What};
use crate::derive::{Derive, Source};
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
    pub keys: Vec<Key>,
    /// The day/month order of numeric dates in time-bucket keys.
    pub date_order: crate::derive::DateOrder,
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
            date_order: crate::derive::DateOrder::Unknown,
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
            .chain(self.keys.iter().filter_map(|k| k.column.as_ref()))
            .chain(self.wheres.iter().map(|w| &w.column))
            .chain(self.what.measures.columns())
            .filter(|c| c.is_name())
            .map(|c| c.0.as_str())
            .collect()
    }
}

/// A `--key` item: a column as written, a value derived from one
/// (`month(date)`, `bin(x, 0.5)`), or the input file's name (`file`,
/// `hour(file)`).
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    /// The item as the user wrote it: the key column's name in tables.
    pub text: String,
    /// The column read, `None` for the file's name.
    pub column: Option<Column>,
    pub derive: Option<Derive>,
}

impl Key {
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = |why: String| Error::Flag {
            flag: "--key",
            value: text.to_owned(),
            why,
        };
        Ok(match crate::derive::parse(text).map_err(bad)? {
            None => Key {
                text: text.to_owned(),
                column: Some(Column(text.to_owned())),
                derive: None,
            },
            Some((col, source, derive)) => Key {
                text: text.to_owned(),
                column: (source == Source::Column).then_some(Column(col)),
                derive,
            },
        })
    }

    /// True for a column used as it is.
    pub fn is_plain(&self) -> bool {
        self.derive.is_none() && self.column.is_some()
    }
}

/// A key of a job with derived keys: the field it reads (`None`: the
/// file's name) and how.
#[derive(Clone, Debug)]
pub struct KeyPlan {
    pub field: Option<usize>,
    pub derive: Option<Derive>,
}

/// A job bound to a schema: field indices, ready for the hot loop.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The value columns' field indices, in flag order.
    pub values: Vec<usize>,
    /// The key columns' field indices, when every key is a column as it
    /// is (the hot loop's case); empty otherwise.
    pub keys: Vec<usize>,
    /// Every key, when some is derived or the file's name.
    pub derived: Option<Vec<KeyPlan>>,
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
    /// The number of key fields.
    pub fn key_count(&self) -> usize {
        self.derived.as_ref().map_or(self.keys.len(), Vec::len)
    }

    pub fn bind(job: &Job, schema: Option<&[Vec<u8>]>) -> Result<Self, Error> {
        let resolve = |cols: &[Column]| {
            cols.iter()
                .map(|c| c.resolve(schema))
                .collect::<Result<Vec<_>, _>>()
        };
        let values = resolve(&job.what.values)?;
        let key_plans = job
            .keys
            .iter()
            .map(|k| {
                Ok(KeyPlan {
                    field: k.column.as_ref().map(|c| c.resolve(schema)).transpose()?,
                    derive: k.derive.clone(),
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let (keys, derived) = if job.keys.iter().all(Key::is_plain) {
            (key_plans.iter().filter_map(|k| k.field).collect(), None)
        } else {
            (Vec::new(), Some(key_plans))
        };
        let wheres = job
            .wheres
            .iter()
            .map(|w| Ok((w.column.resolve(schema)?, w.test.clone())))
            .collect::<Result<Vec<_>, Error>>()?;
        let fields = job.what.measures.bind(schema)?;
        let max_field = keys
            .iter()
            .chain(derived.iter().flatten().filter_map(|k| k.field.as_ref()))
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
            derived,
            wheres,
            fields,
            width,
            max_field,
            extras,
        })
    }
}
