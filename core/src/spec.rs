//! The pieces of a job's flags that name its input: columns, filters,
//! missing-value tokens, the delimiter and the schema.

use crate::error::Error;

/// Groups held in memory before the mapper writes the least-hit out: no
/// limit but memory's by default.
pub const DEFAULT_MAX_GROUPS: usize = usize::MAX;
/// MiB the mapper's groups may hold: well inside a Hadoop task container.
pub const DEFAULT_MAX_MEMORY_MIB: usize = 64;
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
            // A header may name two columns alike (spreadsheets allow it):
            // which one was meant cannot be guessed.
            if let Some(j) = s[i + 1..].iter().position(|n| n == self.0.as_bytes()) {
                return Err(Error::Flag {
                    flag: "column",
                    value: self.0.clone(),
                    why: format!(
                        "two columns have this name (columns {} and {}): use the 1-based \
                         index of the one you mean",
                        i + 1,
                        i + j + 2
                    ),
                });
            }
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

/// What a `--where` filter tests a field for.
#[derive(Clone, Debug, PartialEq)]
pub enum Test {
    /// A numeric comparison: the field must be a number.
    Num(Op, f64),
    /// The field's text equals (`true`) or differs from (`false`) this.
    Text(bool, Vec<u8>),
    /// The field's text is one of these.
    In(Vec<Vec<u8>>),
    /// A date or time comparison (seconds since 1970 in UTC): the field
    /// must be a date or timestamp, read in this day/month order.
    Time(Op, i64, crate::derive::DateOrder),
}

impl Test {
    /// Whether a present (not missing) field passes; `None` when a numeric
    /// test meets a field that is not a number (a malformed line).
    #[inline]
    pub fn eval(&self, field: &[u8]) -> Option<bool> {
        match self {
            Test::Num(op, rhs) => crate::record::parse_number(field).map(|x| op.eval(x, *rhs)),
            Test::Text(eq, rhs) => Some((field == rhs.as_slice()) == *eq),
            Test::In(set) => Some(set.iter().any(|v| v.as_slice() == field)),
            Test::Time(op, rhs, order) => match crate::derive::timestamp(field, *order) {
                Ok(Some(t)) => Some(op.eval(t.seconds() as f64, *rhs as f64)),
                _ => None,
            },
        }
    }
}

/// One `--where` filter: `COL OP NUMBER`, `COL == WORD`, `COL != WORD`, or
/// `COL in A,B,C`.
#[derive(Clone, Debug, PartialEq)]
pub struct Where {
    pub column: Column,
    pub test: Test,
}

impl Where {
    /// Parses `temp>=0.75`, `year<1950`, `country==3`, `3 != 0`,
    /// `carrier==UA`, `zip=="02134"` (quoted: always text), `carrier in
    /// AA,UA,DL`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::Flag {
            flag: "--where",
            value: text.to_owned(),
            why: why.to_owned(),
        };
        if let Some((col, set)) = split_in(text) {
            let set: Vec<Vec<u8>> = list_items(set)
                .map_err(bad)?
                .into_iter()
                .map(String::into_bytes)
                .collect();
            if col.is_empty() || set.iter().all(Vec::is_empty) {
                return Err(bad("expected COLUMN in A,B,C"));
            }
            return Ok(Self {
                column: Column(col.to_owned()),
                test: Test::In(set),
            });
        }
        let at = text.find(['<', '>', '=', '!']).ok_or_else(|| {
            bad("expected COLUMN OP VALUE with OP one of < <= > >= == !=, or COLUMN in A,B,C")
        })?;
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
        let (word, quoted) = unquote(rhs.trim());
        let number = if quoted {
            None
        } else {
            word.parse::<f64>().ok()
        };
        if number.is_some_and(f64::is_nan) {
            return Err(bad(
                "NaN compares false with every value, so this filter would keep nothing \
                 (or everything); NaN values are counted as nonfinite",
            ));
        }
        // A date or timestamp compares as one (`created_at>=2016-01-01`).
        let time = match (number, quoted) {
            (None, false) => {
                crate::derive::timestamp(word.as_bytes(), crate::derive::DateOrder::Unknown)
                    .ok()
                    .flatten()
            }
            _ => None,
        };
        let test = match (number, op) {
            (Some(x), _) => Test::Num(op, x),
            (None, _) if let Some(t) = time => {
                Test::Time(op, t.seconds(), crate::derive::DateOrder::Unknown)
            }
            (None, Op::Eq | Op::Ne) if !word.is_empty() || quoted => {
                Test::Text(op == Op::Eq, word.into_bytes())
            }
            (None, Op::Eq | Op::Ne) => return Err(bad("nothing to compare with")),
            (None, _) => {
                return Err(bad(
                    "< <= > >= compare numbers and dates (2016-01-01, 2016-01-04 13:02); \
                     compare text with ==, != or in",
                ));
            }
        };
        Ok(Self {
            column: Column(col.to_owned()),
            test,
        })
    }
}

/// `COL in A,B,C` split at its ` in ` (the keyword, any case).
fn split_in(text: &str) -> Option<(&str, &str)> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find(" in ")?;
    let (col, set) = (text[..at].trim(), text[at + 4..].trim());
    (!col.contains(['<', '>', '=', '!'])).then_some((col, set))
}

/// The items of `A,B,C`: split at commas outside quotes, each trimmed; an
/// item in `"..."` or `'...'` may hold commas (`"China, Taiwan Province of
/// China",World`), and its quote character doubled stands for itself.
fn list_items(set: &str) -> Result<Vec<String>, &'static str> {
    let mut items = Vec::new();
    let mut chars = set.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ' ').is_some() {}
        let mut item = String::new();
        match chars.peek().copied() {
            Some(q @ ('"' | '\'')) => {
                chars.next();
                loop {
                    match chars.next() {
                        None => return Err("a quoted item of the list has no closing quote"),
                        Some(c) if c == q && chars.next_if_eq(&q).is_some() => item.push(q),
                        Some(c) if c == q => break,
                        Some(c) => item.push(c),
                    }
                }
                while chars.next_if(|c| *c == ' ').is_some() {}
                if chars.peek().is_some_and(|c| *c != ',') {
                    return Err("text after a quoted item of the list: put a comma between items");
                }
            }
            _ => {
                while let Some(c) = chars.next_if(|c| *c != ',') {
                    item.push(c);
                }
                item.truncate(item.trim_end().len());
            }
        }
        items.push(item);
        if chars.next().is_none() {
            return Ok(items);
        }
    }
}

/// A word without its surrounding quotes (`"UA"` or `'UA'`), and whether it
/// had them.
fn unquote(w: &str) -> (String, bool) {
    for q in ['"', '\''] {
        if w.len() >= 2 && w.starts_with(q) && w.ends_with(q) {
            return (w[1..w.len() - 1].to_owned(), true);
        }
    }
    (w.to_owned(), false)
}

/// The default `--na-values`: how data commonly marks a missing value (R's
/// and pandas' `NA`, SQL's `NULL`, Hive's `\N`, spreadsheets' `#N/A`), and
/// the empty field.
pub const DEFAULT_NA: &str = ",NA,N/A,n/a,#N/A,NULL,null,None,\\N,<NA>";

/// The `--text-na-values` default: in a column read as text (keys,
/// distinct counts, text comparisons), only the empty field and `\N` (the
/// null of Hive, PostgreSQL's `COPY` and MySQL dumps) are missing, as `NA`
/// or `None` may well be a word or a name there.
pub const DEFAULT_TEXT_NA: &str = ",\\N";

/// How a column's fields are read: the `--na-values` tokens (field texts
/// that mean "missing") and, for number columns, the `--thousands`
/// separator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Na {
    tokens: Vec<Vec<u8>>,
    /// Some token is a number (a sentinel like `-999`): every field must be
    /// checked, not only those that do not parse.
    pub numeric: bool,
    /// Digits may be grouped with this byte (`23,288`).
    thousands: Option<u8>,
}

impl Na {
    /// Parses `--na-values`: a comma-separated list (an empty item is the
    /// empty field), or `none`.
    pub fn parse(text: &str) -> Self {
        let tokens: Vec<Vec<u8>> = if text == "none" {
            Vec::new()
        } else {
            text.split(',')
                .map(|t| t.trim().as_bytes().to_vec())
                .collect()
        };
        let numeric = tokens
            .iter()
            .any(|t| crate::record::parse_number(t).is_some());
        Self {
            tokens,
            numeric,
            thousands: None,
        }
    }

    /// Numbers may group their digits with `sep` (`--thousands`).
    pub fn with_thousands(mut self, sep: Option<u8>) -> Self {
        self.thousands = sep;
        self
    }

    /// A numeric field `f`, given its parse (`parsed`, which the caller
    /// has made, so that a field is parsed once): `Ok(Some(x))`,
    /// `Ok(None)` when it is one of the missing-value texts, `Err` when it
    /// is neither. A missing-value text that parses as a number (`-999`)
    /// is missing; that check runs only when the list has such a text.
    #[inline(never)]
    pub(crate) fn classify(&self, f: &[u8], parsed: Option<f64>) -> Result<Option<f64>, ()> {
        match parsed {
            Some(x) if !self.numeric => Ok(Some(x)),
            _ if self.is(f) => Ok(None),
            Some(x) => Ok(Some(x)),
            None => self.grouped(f).ok_or(()).map(Some),
        }
    }

    /// A number whose digits are grouped with the `--thousands` separator:
    /// `23,288`, `-1,234,567.5`, `1,00,000` (Indian grouping); the first
    /// group of one to three digits, the last of three, any between of two
    /// or three, and none after the decimal point, so that `1,5` (a
    /// decimal comma) is never read as 15.
    #[cold]
    fn grouped(&self, f: &[u8]) -> Option<f64> {
        let sep = self.thousands?;
        let f = f.trim_ascii();
        let (sign, rest) = match f.split_first()? {
            (b'-' | b'+', rest) => (&f[..1], rest),
            _ => (&f[..0], f),
        };
        let int_end = rest
            .iter()
            .position(|&b| !(b.is_ascii_digit() || b == sep))
            .unwrap_or(rest.len());
        let (int, tail) = rest.split_at(int_end);
        let groups: Vec<&[u8]> = int.split(|&b| b == sep).collect();
        let [first, middle @ .., last] = &groups[..] else {
            return None;
        };
        let ok = (1..=3).contains(&first.len())
            && last.len() == 3
            && middle.iter().all(|g| (2..=3).contains(&g.len()));
        if !ok || tail.contains(&sep) {
            return None;
        }
        let mut plain = Vec::with_capacity(f.len());
        plain.extend_from_slice(sign);
        groups.iter().for_each(|g| plain.extend_from_slice(g));
        plain.extend_from_slice(tail);
        crate::record::parse_number(&plain)
    }

    /// True when the field (spaces around it ignored) is a missing-value
    /// token.
    #[inline]
    pub fn is(&self, field: &[u8]) -> bool {
        let f = field.trim_ascii();
        self.tokens.iter().any(|t| t.as_slice() == f)
    }
}

/// Parses `--thousands`: one byte that groups digits (`,` `.` `'` `_` or
/// `space`), not the delimiter unless fields can be quoted (a
/// comma-separated file quotes `"23,288"`; a space-separated one cannot).
pub fn parse_thousands(text: &str, delimiter: u8) -> Result<u8, Error> {
    let sep = match text {
        "space" | " " => b' ',
        "," | "." | "'" | "_" => text.as_bytes()[0],
        _ => {
            return Err(Error::Flag {
                flag: "--thousands",
                value: text.to_owned(),
                why: "expected one of , . ' _ or `space`".into(),
            });
        }
    };
    let quoted = matches!(
        crate::lines::Framing::text(delimiter),
        crate::lines::Framing::Csv { quote: Some(_), .. }
    );
    if sep == delimiter && !quoted {
        return Err(Error::Flag {
            flag: "--thousands",
            value: text.to_owned(),
            why: "it is the delimiter, and fields of this delimiter cannot be quoted, so \
                  1,234 would be two fields"
                .into(),
        });
    }
    Ok(sep)
}

/// Parses `--delimiter`: one byte, `tab` / `\t`, or `space` (as the
/// page-view dumps need: `project page views bytes`).
pub fn parse_delimiter(text: &str) -> Result<u8, Error> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        "space" => Ok(b' '),
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
    let bad = |why: String| Error::Flag {
        flag: "--schema",
        value: text.to_owned(),
        why,
    };
    if names.len() == 1 && names[0].is_empty() {
        return Err(bad("no column names".into()));
    }
    // A column may have no name (pandas writes its index so): it can
    // still be named by its index. Two columns of one name are allowed, as in headers (spreadsheets
    // write them): naming one of them is refused (see `Column::resolve`).
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators_group_digits_only() {
        let na = Na::parse(DEFAULT_NA).with_thousands(Some(b','));
        let n = |f: &str| na.classify(f.as_bytes(), crate::record::parse_number(f.as_bytes()));
        assert_eq!(n("23,288  "), Ok(Some(23288.0)));
        assert_eq!(n("-1,234,567.25"), Ok(Some(-1_234_567.25)));
        assert_eq!(n("1,00,000"), Ok(Some(100_000.0)));
        assert_eq!(n("999"), Ok(Some(999.0)));
        assert_eq!(n("NA"), Ok(None));
        for bad in [
            "1,5", "12,34", ",123", "1,234,", "1,,234", "1.5,000", "1,2345", "x,123",
        ] {
            assert_eq!(n(bad), Err(()), "{bad}");
        }
        assert_eq!(Na::parse(DEFAULT_NA).classify(b"23,288", None), Err(()));
        assert_eq!(parse_thousands(",", b',').ok(), Some(b','));
        assert!(parse_thousands("space", b' ').is_err());
        assert!(parse_thousands("x", b',').is_err());
    }

    #[test]
    fn in_lists_take_quoted_items_with_commas() {
        let set = |s: &str| match Where::parse(s).expect("ok").test {
            Test::In(v) => v
                .into_iter()
                .map(|b| String::from_utf8(b).expect("utf8"))
                .collect::<Vec<_>>(),
            t => panic!("{t:?}"),
        };
        assert_eq!(
            set(r#"Location in "China, Taiwan Province of China",World"#),
            ["China, Taiwan Province of China", "World"]
        );
        assert_eq!(set("c in AA, UA ,DL"), ["AA", "UA", "DL"]);
        assert_eq!(
            set(r#"c in 'it''s', "say ""hi""", ''"#),
            ["it's", r#"say "hi""#, ""]
        );
        assert!(Where::parse(r#"c in "open,b"#).is_err());
        assert!(Where::parse(r#"c in "a"b,c"#).is_err());
    }

    #[test]
    fn where_parses() {
        let t = |s: &str| Where::parse(s).expect("ok");
        let w = t("temp>=0.75");
        assert_eq!(
            (w.column.0.as_str(), w.test),
            ("temp", Test::Num(Op::Ge, 0.75))
        );
        assert_eq!(t(" year < -1e3 ").test, Test::Num(Op::Lt, -1000.0));
        assert_eq!(t("3!=0").test, Test::Num(Op::Ne, 0.0));
        assert_eq!(t("carrier==UA").test, Test::Text(true, b"UA".to_vec()));
        assert_eq!(
            t("zip == \"02134\"").test,
            Test::Text(true, b"02134".to_vec())
        );
        assert_eq!(
            t("town!='Saint-Denis'").test,
            Test::Text(false, b"Saint-Denis".to_vec())
        );
        let w = t("carrier in AA, UA,DL");
        assert_eq!(
            (w.column.0.as_str(), w.test),
            (
                "carrier",
                Test::In(vec![b"AA".to_vec(), b"UA".to_vec(), b"DL".to_vec()])
            )
        );
        assert_eq!(t("x y IN a").column.0, "x y");
        for bad in [
            "temp",
            ">3",
            "temp=>3",
            "temp>=abc",
            "temp=3",
            "temp==",
            "x in ,",
            "temp<nan",
            "temp == NaN",
            "temp>=-nan",
        ] {
            assert!(Where::parse(bad).is_err(), "{bad}");
        }
        assert!(t("carrier==UA").test.eval(b"UA") == Some(true));
        assert!(t("carrier!=UA").test.eval(b"UA") == Some(false));
        assert!(t("n>=2").test.eval(b"x").is_none());
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
        // A schema or a header may name two columns alike; only naming
        // one of them is an error.
        let header = parse_schema("a,t,t").expect("ok");
        assert_eq!(Column("a".into()).resolve(Some(&header)).expect("ok"), 0);
        let e = Column("t".into())
            .resolve(Some(&header))
            .expect_err("ambiguous");
        assert!(e.to_string().contains("columns 2 and 3"), "{e}");
    }

    #[test]
    fn delimiters() {
        assert_eq!(parse_delimiter("tab").expect("ok"), b'\t');
        assert_eq!(parse_delimiter(";").expect("ok"), b';');
        assert_eq!(parse_delimiter("space").expect("ok"), b' ');
        assert_eq!(parse_delimiter(" ").expect("ok"), b' ');
        assert!(parse_delimiter("\"").is_err());
        assert!(parse_delimiter(",,").is_err());
    }
}
