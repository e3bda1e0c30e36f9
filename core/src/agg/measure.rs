//! The seam between a job's flags and its aggregates.
//!
//! Every value column always gets the summary (count, sum, spread,
//! extremes, tallies); anything more is a [`Measure`]: an aggregate asked
//! for by flags of its own. Its file says everything about it: its flags
//! ([`Measure::FLAGS`]), what they mean ([`Measure::Spec`], parsed once),
//! the parameters its state is made with and carries on the wire
//! ([`Measure::Shape`]), what it reads of a line, and how it finishes. Its
//! one line in the registry (`agg/mod.rs`) gives it a place in a group's
//! state; the command-line flags, the job's description, the mapper's
//! plan, the wire's shapes, the reducer's report and the runners' command
//! lines follow from there.

use crate::binary::{Dtype, NumberText};
use crate::error::Error;
use crate::record::Splitter;
use crate::spec::{Column, Na};

use super::Partial;

/// One command-line flag of a measure, defined once: `mapfold-map`,
/// `mapfold-reduce` and `mapfold run` all take it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flag {
    /// The flag without its dashes (`hist2d` for `--hist2d`).
    pub name: &'static str,
    pub value_name: &'static str,
    pub help: &'static str,
    /// The value when the flag is given alone (`--quantiles`), if it may be.
    pub bare: Option<&'static str>,
    /// The value when the flag is not given, shown in `--help` (and left
    /// out of a job's words).
    pub default: Option<&'static str>,
    /// May be given more than once (`--distinct a --distinct b`).
    pub repeat: bool,
    /// Its value may start with a minus (`--hist -5:5:100`).
    pub hyphen: bool,
}

impl Flag {
    /// A flag with one value, given at most once.
    pub const fn new(name: &'static str, value_name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            value_name,
            help,
            bare: None,
            default: None,
            repeat: false,
            hyphen: false,
        }
    }
}

/// The values given to the measures' flags: each flag given, in registry
/// order, with its values in the order given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Given(pub Vec<(&'static str, Vec<String>)>);

impl Given {
    /// The values of `--name`, none when it was not given.
    pub fn get(&self, name: &str) -> &[String] {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(&[], |(_, v)| v.as_slice())
    }

    /// The one value of a flag given at most once.
    pub fn one(&self, name: &str) -> Option<&str> {
        self.get(name).last().map(String::as_str)
    }
}

/// What a decoded state is checked against: its column's finite values,
/// non-finite values and range (see [`Measure::check_state`]).
#[derive(Clone, Copy, Debug)]
pub struct Check {
    pub finite: u64,
    pub nonfinite: u64,
    pub range: Option<(f64, f64)>,
}

/// A line's fields: a text line, split ([`Text`]), or a binary array's
/// row ([`Row`]), each value read as the text CSV would hold. Everything
/// that reads fields (filters, values, keys, measures) is compiled for
/// each kind: no dispatch per field.
pub trait Fields<'a>: Copy {
    type Text: std::ops::Deref<Target = [u8]>;

    /// Field `col`'s text as it stands.
    fn raw(self, col: usize) -> Self::Text;

    /// Field `col` as a number: a row's value, or the number a text
    /// field parses to (`None` if it does not). A missing-value text that
    /// is a number (`-999`) is returned too: callers test
    /// [`crate::spec::Na::numeric`] first, and ask
    /// [`crate::spec::Na::classify`] of a field this gives no number for.
    fn number(self, col: usize) -> Option<f64>;

    /// Field `col`'s text as a key field: the line's own bytes, or a
    /// number's text written into `buf`.
    fn key_field<'b>(self, col: usize, buf: &'b mut Vec<u8>) -> &'b [u8]
    where
        'a: 'b;
}

/// A text line and the splitter that has split it.
#[derive(Clone, Copy, Debug)]
pub struct Text<'a>(pub &'a Splitter, pub &'a [u8]);

impl<'a> Fields<'a> for Text<'a> {
    type Text = &'a [u8];

    #[inline(always)]
    fn raw(self, col: usize) -> &'a [u8] {
        self.0.field(self.1, col).unwrap_or_default()
    }

    /// Parsed inline: the parse is much of a line's work, and a call a
    /// line (with the registers it saves) a good part of the rest.
    #[inline(always)]
    fn number(self, col: usize) -> Option<f64> {
        crate::record::number(self.raw(col))
    }

    #[inline(always)]
    fn key_field<'b>(self, col: usize, _: &'b mut Vec<u8>) -> &'b [u8]
    where
        'a: 'b,
    {
        self.raw(col)
    }
}

/// A binary array's row and its values' type.
#[derive(Clone, Copy, Debug)]
pub struct Row<'a>(pub &'a [u8], pub Dtype);

impl<'a> Fields<'a> for Row<'a> {
    type Text = NumberText;

    #[inline(always)]
    fn raw(self, col: usize) -> NumberText {
        self.1.text_at(self.0, col)
    }

    #[inline(always)]
    fn number(self, col: usize) -> Option<f64> {
        Some(self.1.value_at(self.0, col))
    }

    fn key_field<'b>(self, col: usize, buf: &'b mut Vec<u8>) -> &'b [u8]
    where
        'a: 'b,
    {
        buf.clear();
        buf.extend_from_slice(&self.raw(col));
        buf
    }
}

/// One line's fields, as a measure reads them.
#[derive(Clone, Copy, Debug)]
pub struct Line<'a, F> {
    pub(crate) fields: F,
    pub(crate) na: &'a Na,
    /// The missing-value texts of a column read as text.
    pub(crate) text_na: &'a Na,
}

impl<'a, F: Fields<'a>> Line<'_, F> {
    /// Field `col`'s text, `None` when it is missing (a
    /// `--text-na-values` token).
    pub fn text(&self, col: usize) -> Option<F::Text> {
        let f = self.fields.raw(col);
        (!self.text_na.is(&f)).then_some(f)
    }

    /// Field `col` as a number, `None` when it is missing, or why the
    /// line is malformed (`flag` names who wanted a number).
    pub fn number(&self, col: usize, flag: &str) -> Result<Option<f64>, String> {
        if !self.na.numeric
            && let Some(x) = self.fields.number(col)
        {
            return Ok(Some(x));
        }
        let f = self.fields.raw(col);
        // Parsed once: above, unless a missing-value text is a number.
        let parsed = if self.na.numeric {
            crate::record::parse_number(&f)
        } else {
            None
        };
        self.na.classify(&f, parsed).map_err(|()| {
            format!(
                "{flag} column {} is not a number ({:?})",
                col + 1,
                crate::error::snippet(&f)
            )
        })
    }

    /// Two fields as numbers: both, `None` when one is missing, or why
    /// the line is malformed.
    pub fn pair(&self, cols: &[usize], flag: &str) -> Result<Option<(f64, f64)>, String> {
        let [x, y] = cols else { return Ok(None) };
        Ok(match (self.number(*x, flag)?, self.number(*y, flag)?) {
            (Some(x), Some(y)) => Some((x, y)),
            _ => None,
        })
    }
}

/// An aggregate a job asks for by flags of its own.
///
/// A column measure (listed under `column_measures` in the registry) lives
/// in every value column's state and is fed each value by
/// [`Partial::update`]; a group measure (`group_measures`) lives once in
/// a group's state and reads the fields it names from each line
/// ([`Measure::read`], then [`Measure::feed`]).
pub trait Measure: Partial {
    /// Its flags: the first asks for it, any others tune it.
    const FLAGS: &'static [Flag];

    /// Its state grows as values come (a sketch, a set): the mapper then
    /// measures each line's growth against its memory bound.
    const GROWS: bool = false;

    /// What the flags say: the columns it reads, its parameters.
    type Spec: Clone + std::fmt::Debug + PartialEq;

    /// The parameters a state is made with and carries (a layout, a
    /// precision), which states must share to merge.
    type Shape: Copy + std::fmt::Debug + PartialEq;

    /// What [`Measure::read`] takes from a line for [`Measure::feed`].
    type Input: Copy + Default;

    /// Parses its flags' values for a job of these value columns; `None`
    /// when the job does not ask for it.
    fn parse(given: &Given, values: &[Column]) -> Result<Option<Self::Spec>, Error>;

    /// The columns it reads besides the value columns.
    fn columns(_spec: &Self::Spec) -> Vec<&Column> {
        Vec::new()
    }

    /// The shape of value column `column`'s state (a column measure), or of
    /// the group's (a group measure, `column` 0); `None` for none.
    fn shape(spec: &Self::Spec, column: usize) -> Option<Self::Shape>;

    /// The empty state of this shape.
    fn with_shape(shape: Self::Shape) -> Self;

    /// The shape of this state, `None` for the identity.
    fn shape_of(&self) -> Option<Self::Shape>;

    /// What a line gives it, read before the line is counted: a field that
    /// should be a number and is not makes the line malformed (`cols` are
    /// [`Measure::columns`]' field indices).
    fn read<'a>(_cols: &[usize], _line: &Line<'_, impl Fields<'a>>) -> Result<Self::Input, String> {
        Ok(Self::Input::default())
    }

    /// Folds in a counted line's input.
    fn feed<'a>(
        &mut self,
        _input: Self::Input,
        _cols: &[usize],
        _line: &Line<'_, impl Fields<'a>>,
    ) {
    }

    /// The byte that introduces its shape in a one-value partial
    /// (`VALUE@LO:HI:BINS`), for a column measure whose state of one value
    /// is made from its shape alone.
    const SIGIL: Option<u8> = None;

    /// Writes its shape after [`Measure::SIGIL`].
    fn write_shape(_shape: &Self::Shape, _out: &mut Vec<u8>) {}

    /// Parses [`Measure::write_shape`]'s text.
    fn read_shape(_text: &[u8]) -> Option<Self::Shape> {
        None
    }

    /// The rows this state counts: none may count more than its group has.
    fn rows_counted(&self) -> u128 {
        0
    }

    /// Why this state, decoded from the wire, cannot be one the mapper made
    /// (checked for column measures against their column, for group
    /// measures on their own).
    fn check_state(&self, _column: &Check) -> Result<(), String> {
        Ok(())
    }
}

/// A refused flag value and why.
pub(crate) fn flag_error(flag: &'static str, value: &str, why: impl Into<String>) -> Error {
    Error::Flag {
        flag,
        value: value.to_owned(),
        why: why.into(),
    }
}
