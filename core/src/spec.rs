//! What a map task computes: the job's columns, filters and histogram,
//! parsed from the mapper's flags and bound to a schema.

use crate::agg::HistLayout;
use crate::error::Error;

/// Groups held in memory before the mapper flushes them early.
pub const DEFAULT_MAX_GROUPS: usize = 16_384;
/// Default allowed fraction of malformed lines per task.
pub const DEFAULT_MAX_MALFORMED: f64 = 0.01;

/// A column named by the user: a schema name, or a 1-based index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column(pub String);

impl Column {
    /// Its 0-based field index under `schema`. A name in the schema wins over
    /// an index (a column may be called `3`).
    pub fn resolve(&self, schema: Option<&[Vec<u8>]>) -> Result<usize, Error> {
        if let Some(s) = schema
            && let Some(i) = s.iter().position(|n| n == self.0.as_bytes())
        {
            return Ok(i);
        }
        if let Ok(i) = self.0.parse::<usize>()
            && i >= 1
        {
            return Ok(i - 1);
        }
        match schema {
            Some(s) => Err(Error::UnknownColumn {
                name: self.0.clone(),
                schema: s
                    .iter()
                    .map(|n| String::from_utf8_lossy(n).into_owned())
                    .collect::<Vec<_>>()
                    .join(","),
            }),
            None => Err(Error::NoSchema {
                name: self.0.clone(),
            }),
        }
    }

    /// True when resolving needs a schema (not a plain index).
    pub fn is_name(&self) -> bool {
        !matches!(self.0.parse::<usize>(), Ok(i) if i >= 1)
    }
}

/// A comparison operator of `--where`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    #[inline]
    pub fn eval(self, a: f64, b: f64) -> bool {
        match self {
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
            Op::Eq => a == b,
            Op::Ne => a != b,
        }
    }
}

/// One `--where COL OP NUMBER` filter.
#[derive(Clone, Debug, PartialEq)]
pub struct Where {
    pub column: Column,
    pub op: Op,
    pub rhs: f64,
}

impl Where {
    /// Parses `temp>=0.75`, `year<1950`, `country==3`, `3 != 0`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::Flag {
            flag: "--where",
            value: text.to_owned(),
            why: why.to_owned(),
        };
        let at = text
            .find(['<', '>', '=', '!'])
            .ok_or_else(|| bad("expected COLUMN OP NUMBER with OP one of < <= > >= == !="))?;
        let (col, rest) = (text[..at].trim(), &text[at..]);
        let (op, rhs) = [
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<", Op::Lt),
            (">", Op::Gt),
        ]
        .iter()
        .find_map(|(s, op)| rest.strip_prefix(s).map(|r| (*op, r)))
        .ok_or_else(|| bad("unknown operator; use < <= > >= == !="))?;
        if col.is_empty() {
            return Err(bad("missing column before the operator"));
        }
        let rhs: f64 = rhs
            .trim()
            .parse()
            .map_err(|_| bad("the right-hand side must be a number"))?;
        Ok(Self {
            column: Column(col.to_owned()),
            op,
            rhs,
        })
    }
}

/// Everything a map task needs, as the user gave it.
#[derive(Clone, Debug, PartialEq)]
pub struct MapSpec {
    pub value: Column,
    pub keys: Vec<Column>,
    pub schema: Option<Vec<Vec<u8>>>,
    pub delimiter: u8,
    pub wheres: Vec<Where>,
    pub hist: Option<HistLayout>,
    pub max_malformed: f64,
    pub max_groups: usize,
}

impl MapSpec {
    /// A spec with defaults for everything but the value column.
    pub fn new(value: &str) -> Self {
        Self {
            value: Column(value.to_owned()),
            keys: Vec::new(),
            schema: None,
            delimiter: b',',
            wheres: Vec::new(),
            hist: None,
            max_malformed: DEFAULT_MAX_MALFORMED,
            max_groups: DEFAULT_MAX_GROUPS,
        }
    }

    /// True when some column is referenced by name.
    pub fn needs_names(&self) -> bool {
        !self.named_columns().is_empty()
    }

    /// The columns referenced by name (not by index), in flag order.
    pub fn named_columns(&self) -> Vec<&str> {
        std::iter::once(&self.value)
            .chain(&self.keys)
            .chain(self.wheres.iter().map(|w| &w.column))
            .filter(|c| c.is_name())
            .map(|c| c.0.as_str())
            .collect()
    }
}

/// Parses `--delimiter`: one byte, or `tab` / `\t`.
pub fn parse_delimiter(text: &str) -> Result<u8, Error> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        s if s.len() == 1 && !matches!(s, "\"" | "\n" | "\r") => Ok(s.as_bytes()[0]),
        _ => Err(Error::Flag {
            flag: "--delimiter",
            value: text.to_owned(),
            why: "expected one ASCII character (or `tab`), not a quote or newline".into(),
        }),
    }
}

/// Parses `--schema a,b,c` (always comma-separated).
pub fn parse_schema(text: &str) -> Result<Vec<Vec<u8>>, Error> {
    let names: Vec<Vec<u8>> = text
        .split(',')
        .map(|s| s.trim().as_bytes().to_vec())
        .collect();
    if names.iter().any(Vec::is_empty) {
        return Err(Error::Flag {
            flag: "--schema",
            value: text.to_owned(),
            why: "empty column name".into(),
        });
    }
    Ok(names)
}

/// A spec bound to a schema: field indices, ready for the hot loop.
#[derive(Clone, Debug)]
pub struct Plan {
    pub value: usize,
    pub keys: Vec<usize>,
    pub wheres: Vec<(usize, Op, f64)>,
    /// Fields a line must have (the schema's width), when known.
    pub width: Option<usize>,
    /// The highest field index the plan reads.
    pub max_field: usize,
}

impl Plan {
    pub fn bind(spec: &MapSpec, schema: Option<&[Vec<u8>]>) -> Result<Self, Error> {
        let value = spec.value.resolve(schema)?;
        let keys = spec
            .keys
            .iter()
            .map(|k| k.resolve(schema))
            .collect::<Result<Vec<_>, _>>()?;
        let wheres = spec
            .wheres
            .iter()
            .map(|w| Ok((w.column.resolve(schema)?, w.op, w.rhs)))
            .collect::<Result<Vec<_>, Error>>()?;
        let max_field = keys
            .iter()
            .chain(wheres.iter().map(|w| &w.0))
            .fold(value, |m, &i| m.max(i));
        let width = schema.map(<[_]>::len);
        if let Some(w) = width
            && max_field >= w
        {
            return Err(Error::Flag {
                flag: "--value/--key/--where",
                value: format!("column {}", max_field + 1),
                why: format!("the schema has only {w} columns"),
            });
        }
        Ok(Self {
            value,
            keys,
            wheres,
            width,
            max_field,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn where_parses() {
        let w = Where::parse("temp>=0.75").expect("ok");
        assert_eq!((w.column.0.as_str(), w.op, w.rhs), ("temp", Op::Ge, 0.75));
        let w = Where::parse(" year < -1e3 ").expect("ok");
        assert_eq!(
            (w.column.0.as_str(), w.op, w.rhs),
            ("year", Op::Lt, -1000.0)
        );
        assert_eq!(Where::parse("3!=0").expect("ok").op, Op::Ne);
        for bad in ["temp", ">3", "temp=>3", "temp>=abc", "temp=3"] {
            assert!(Where::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn columns_resolve() {
        let schema = parse_schema("a,b,3").expect("ok");
        assert_eq!(Column("b".into()).resolve(Some(&schema)).expect("ok"), 1);
        assert_eq!(Column("3".into()).resolve(Some(&schema)).expect("ok"), 2);
        assert_eq!(Column("1".into()).resolve(None).expect("ok"), 0);
        assert!(matches!(
            Column("x".into()).resolve(Some(&schema)),
            Err(Error::UnknownColumn { .. })
        ));
        assert!(matches!(
            Column("x".into()).resolve(None),
            Err(Error::NoSchema { .. })
        ));
        assert!(Column("0".into()).is_name());
    }

    #[test]
    fn delimiters() {
        assert_eq!(parse_delimiter("tab").expect("ok"), b'\t');
        assert_eq!(parse_delimiter(";").expect("ok"), b';');
        assert!(parse_delimiter("\"").is_err());
        assert!(parse_delimiter(",,").is_err());
    }
}
