//! Derived keys: a key made from a column's value rather than the value
//! itself (`--key 'month(created_at)'`, `--key 'bin(x, 0.5)'`, `--key
//! file`). Time buckets read the date forms real tables carry and print
//! the bucket in ISO form, so buckets sort in time order as text; numeric
//! buckets are computed on the decimal digits as written, so `bin(0.3,
//! 0.1)` is `0.3` (in binary, 0.3 / 0.1 is 2.9999999999999996).

/// A time bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Year,
    Quarter,
    Month,
    /// ISO 8601 weeks (Monday first; week 1 holds the year's Thursday).
    Week,
    Day,
    Hour,
    Minute,
}

/// The day/month order of a numeric date such as `01/04/2016`, which the
/// text alone cannot tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DateOrder {
    /// Not stated: such a date is malformed.
    #[default]
    Unknown,
    /// Month first (`01/04/2016` is January 4th), as in the US.
    Mdy,
    /// Day first (`01/04/2016` is April 1st).
    Dmy,
}

/// How a key field is made from its source.
#[derive(Clone, Debug, PartialEq)]
pub enum Derive {
    /// The time bucket of a date or timestamp.
    Time(Unit),
    /// `floor(x / width) * width`, on decimal digits: the width's digits
    /// and exponent.
    Bin { mantissa: i128, exp: i32 },
}

/// What a key names: a column as it is, a column derived, or the input
/// file's name (with a time bucket found in it, `hour(file)`).
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Column,
    File,
}

/// The key functions.
const FUNCTIONS: [&str; 8] = [
    "year", "quarter", "month", "week", "day", "hour", "minute", "bin",
];

/// For a column name that looks like a call (`fortnight(when)`) but names
/// no column: what the key functions are.
pub fn hint(name: &str) -> String {
    if name.contains('(') && name.ends_with(')') {
        format!(
            " (a key function is one of {}, or file)",
            FUNCTIONS.join(", ")
        )
    } else {
        String::new()
    }
}

/// Parses a `--key` item's function form: `month(col)`, `bin(col, 0.5)`,
/// `file`, `hour(file)`. `Ok(None)` for a plain column; the column text
/// inside otherwise.
pub fn parse(item: &str) -> Result<Option<(String, Source, Option<Derive>)>, String> {
    let item = item.trim();
    if item == "file" || item == "file()" {
        return Ok(Some((String::new(), Source::File, None)));
    }
    let Some((name, rest)) = item.split_once('(') else {
        return Ok(None);
    };
    let Some(args) = rest.strip_suffix(')') else {
        return Ok(None);
    };
    let unit = match name.trim() {
        // A column whose name has parentheses (`Population (thousands)`)
        // is a column.
        n if !FUNCTIONS.contains(&n) => return Ok(None),
        "year" => Unit::Year,
        "quarter" => Unit::Quarter,
        "month" => Unit::Month,
        "week" => Unit::Week,
        "day" => Unit::Day,
        "hour" => Unit::Hour,
        "minute" => Unit::Minute,
        "bin" => {
            let (col, width) = args
                .rsplit_once(',')
                .ok_or("bin(COLUMN, WIDTH) needs a width: bin(x, 0.5)")?;
            let (mantissa, exp) = decimal(width.trim().as_bytes())
                .filter(|(m, _)| *m > 0)
                .ok_or("bin()'s width must be a positive decimal number (0.5, 10, 1e3)")?;
            return Ok(Some((
                col.trim().to_owned(),
                Source::Column,
                Some(Derive::Bin { mantissa, exp }),
            )));
        }
        _ => return Ok(None),
    };
    let col = args.trim();
    let source = if col == "file" {
        Source::File
    } else {
        Source::Column
    };
    Ok(Some((col.to_owned(), source, Some(Derive::Time(unit)))))
}

impl Derive {
    /// Appends the key of `field` (a file's name for a time bucket of
    /// [`Source::File`]), or says why there is none.
    pub fn apply(
        &self,
        field: &[u8],
        order: DateOrder,
        file: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), &'static str> {
        match self {
            Derive::Time(unit) => {
                let t = if file {
                    in_name(field)
                } else {
                    timestamp(field, order)?
                };
                let t = t.ok_or("not a date or time")?;
                t.bucket(*unit, out);
                Ok(())
            }
            Derive::Bin { mantissa, exp } => bin(field, *mantissa, *exp, out),
        }
    }
}

/// A moment to the second (a fraction is dropped), in UTC when the text
/// gave an offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Moment {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

fn push_num(out: &mut Vec<u8>, n: u32, width: usize) {
    let mut b = itoa::Buffer::new();
    let s = b.format(n).as_bytes();
    out.extend(std::iter::repeat_n(b'0', width.saturating_sub(s.len())));
    out.extend_from_slice(s);
}

impl Moment {
    /// Seconds since 1970-01-01T00:00 (a leap second reads as the next
    /// second), for comparisons.
    pub fn seconds(&self) -> i64 {
        days(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour * 3600 + self.minute * 60 + self.second)
    }

    /// The bucket's ISO text: `2016`, `2016-Q1`, `2016-01`, `2016-W01`,
    /// `2016-01-04`, `2016-01-04T13:00`, `2016-01-04T13:02`.
    pub fn bucket(&self, unit: Unit, out: &mut Vec<u8>) {
        let year = |out: &mut Vec<u8>, y: i32| push_num(out, y.unsigned_abs(), 4);
        match unit {
            Unit::Year => year(out, self.year),
            Unit::Quarter => {
                year(out, self.year);
                out.extend_from_slice(b"-Q");
                push_num(out, (self.month - 1) / 3 + 1, 1);
            }
            Unit::Week => {
                let (y, w) = iso_week(self.year, self.month, self.day);
                year(out, y);
                out.extend_from_slice(b"-W");
                push_num(out, w, 2);
            }
            Unit::Month | Unit::Day | Unit::Hour | Unit::Minute => {
                year(out, self.year);
                out.push(b'-');
                push_num(out, self.month, 2);
                if unit == Unit::Month {
                    return;
                }
                out.push(b'-');
                push_num(out, self.day, 2);
                if unit == Unit::Day {
                    return;
                }
                out.push(b'T');
                push_num(out, self.hour, 2);
                out.push(b':');
                push_num(out, if unit == Unit::Hour { 0 } else { self.minute }, 2);
            }
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's
/// `days_from_civil`).
pub fn days(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number ([`days`]'s inverse).
pub fn civil(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y as i32, m, d)
}

/// The ISO week-numbering year and week of a date.
fn iso_week(y: i32, m: u32, d: u32) -> (i32, u32) {
    let n = days(y, m, d);
    // 1970-01-01 was a Thursday; Monday is 0.
    let weekday = (n + 3).rem_euclid(7);
    let thursday = n - weekday + 3;
    let (wy, _, _) = civil(thursday);
    (wy, ((thursday - days(wy, 1, 1)) / 7 + 1) as u32)
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A checked date and time of day.
fn moment(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Option<Moment> {
    ((1..=9999).contains(&year)
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second <= 60)
        .then_some(Moment {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
}

/// A month's name or its first three letters, any case.
fn month_name(w: &[u8]) -> Option<u32> {
    const NAMES: [&[u8]; 12] = [
        b"january",
        b"february",
        b"march",
        b"april",
        b"may",
        b"june",
        b"july",
        b"august",
        b"september",
        b"october",
        b"november",
        b"december",
    ];
    let w = w.strip_suffix(b".").unwrap_or(w);
    if w.len() < 3 {
        return None;
    }
    // Compared without case and without a copy: this runs per field.
    NAMES
        .iter()
        .position(|n| {
            (w.len() == 3 || w.len() == n.len())
                && n.get(..w.len()).is_some_and(|p| p.eq_ignore_ascii_case(w))
        })
        .map(|i| i as u32 + 1)
}

fn digits(w: &[u8]) -> Option<u32> {
    (!w.is_empty() && w.len() <= 9 && w.iter().all(u8::is_ascii_digit))
        .then(|| w.iter().fold(0u32, |n, &b| n * 10 + u32::from(b - b'0')))
}

/// Reads a date or timestamp: ISO 8601 (`2016-01-04`, `2016-01-04
/// 13:02:59`, `2016-01-04T13:02:59.5Z`, `+01:00` offsets taken to UTC,
/// `2016/01/04`, `20160104`), a month (`2016-01`, `1939 Jan`, `Jan 1939`,
/// `January 1939`), a day with a month name (`4 Jan 2016`, `Jan 4, 2016`),
/// or `01/04/2016` in the stated order. `Ok(None)` for text that is none
/// of these; `Err` for a numeric date whose order was not stated.
pub fn timestamp(text: &[u8], order: DateOrder) -> Result<Option<Moment>, &'static str> {
    let t = text.trim_ascii();
    // The date part ends at `T` or a space followed by a digit (a time).
    let (date, time) = split_time(t);
    let Some((y, m, d)) = date_part(date, order)? else {
        return Ok(None);
    };
    let Some((hour, minute, second, offset)) = time_part(time) else {
        return Ok(None);
    };
    let Some(mut at) = moment(y, m, d, hour, minute, second) else {
        return Ok(None);
    };
    if offset != 0 {
        let total = days(y, m, d) * 1440 + i64::from(hour * 60 + minute) - i64::from(offset);
        let (yy, mm, dd) = civil(total.div_euclid(1440));
        let mins = total.rem_euclid(1440) as u32;
        match moment(yy, mm, dd, mins / 60, mins % 60, second) {
            Some(m) => at = m,
            None => return Ok(None),
        }
    }
    Ok(Some(at))
}

/// Splits `2016-01-04T13:02` / `2016-01-04 13:02` / `Jan 4, 2016 13:02`
/// into date and time (empty when there is none).
fn split_time(t: &[u8]) -> (&[u8], &[u8]) {
    if let Some(i) = t.iter().position(|&b| b == b'T' || b == b't')
        && i >= 8
        && t.get(i + 1).is_some_and(u8::is_ascii_digit)
    {
        return (&t[..i], &t[i + 1..]);
    }
    // The last space before `HH:MM`.
    if let Some(c) = t.iter().position(|&b| b == b':')
        && let Some(s) = t[..c].iter().rposition(|&b| b == b' ')
    {
        return (t[..s].trim_ascii(), &t[s + 1..]);
    }
    (t, b"")
}

/// `HH:MM[:SS[.fff]][Z|±HH[:MM]| UTC]`, or nothing: hour, minute, second
/// and the offset east of UTC in minutes.
fn time_part(t: &[u8]) -> Option<(u32, u32, u32, i32)> {
    if t.is_empty() {
        return Some((0, 0, 0, 0));
    }
    let t = t.trim_ascii();
    let (clock, zone) = match t
        .iter()
        .position(|&b| matches!(b, b'Z' | b'z' | b'+' | b'-' | b' '))
    {
        Some(i) => (&t[..i], t[i..].trim_ascii()),
        None => (t, &b""[..]),
    };
    let mut parts = clock.split(|&b| b == b':');
    let hour = digits(parts.next()?)?;
    let minute = digits(parts.next()?)?;
    let mut second = 0;
    if let Some(sec) = parts.next() {
        let whole = sec.split(|&b| b == b'.' || b == b',').next()?;
        second = digits(whole).filter(|&s| s <= 60 && whole.len() == 2)?;
    }
    if parts.next().is_some() {
        return None;
    }
    let offset = match zone {
        b"" | b"Z" | b"z" | b"UTC" | b"GMT" => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest {
                [a, b] => (digits(&[*a, *b])?, 0),
                [a, b, c, d] | [a, b, b':', c, d] => (digits(&[*a, *b])?, digits(&[*c, *d])?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let o = (h * 60 + m) as i32;
            if *sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    Some((hour, minute, second, offset))
}

/// The date part: year, month, day (day 1 for a month).
fn date_part(d: &[u8], order: DateOrder) -> Result<Option<(i32, u32, u32)>, &'static str> {
    if d.len() == 8
        && let Some(n) = digits(d)
    {
        return Ok(Some(((n / 10000) as i32, n / 100 % 100, n % 100)));
    }
    // At most three words matter; a fourth makes it no date. A fixed
    // array, not a vector: this runs per field.
    let mut words: [&[u8]; 4] = [b""; 4];
    let mut n = 0;
    for w in d
        .split(|&b| matches!(b, b'-' | b'/' | b'.' | b' ' | b','))
        .filter(|w| !w.is_empty())
    {
        if n == 4 {
            return Ok(None);
        }
        words[n] = w;
        n += 1;
    }
    let words = &words[..n];
    let year = |w: &[u8]| digits(w).filter(|_| w.len() == 4).map(|y| y as i32);
    let small = |w: &[u8]| digits(w).filter(|_| (1..=2).contains(&w.len()));
    Ok(match *words {
        [a, b] => match (year(a), year(b)) {
            (Some(y), _) => small(b).or_else(|| month_name(b)).map(|m| (y, m, 1)),
            (None, Some(y)) => month_name(a).map(|m| (y, m, 1)),
            _ => None,
        },
        [a, b, c] => {
            if let Some(y) = year(a) {
                // Year first: always year, month, day.
                small(b)
                    .or_else(|| month_name(b))
                    .zip(small(c))
                    .map(|(m, d)| (y, m, d))
            } else if let Some(y) = year(c) {
                match (month_name(a), month_name(b)) {
                    (Some(m), None) => small(b).map(|d| (y, m, d)),
                    (None, Some(m)) => small(a).map(|d| (y, m, d)),
                    _ => match (small(a), small(b), order) {
                        (Some(_), Some(_), DateOrder::Unknown) => {
                            return Err("a numeric date: day or month first? say \
                                        --date-order dmy or mdy");
                        }
                        (Some(m), Some(d), DateOrder::Mdy) => Some((y, m, d)),
                        (Some(d), Some(m), DateOrder::Dmy) => Some((y, m, d)),
                        _ => None,
                    },
                }
            } else {
                None
            }
        }
        _ => None,
    })
}

/// A timestamp inside a file's name (`pageviews-20160101-000000.gz`): the
/// first 8 digits that are a date, with the time of 4 or 6 digits after
/// it (`-`, `_` or `T` between).
pub fn in_name(name: &[u8]) -> Option<Moment> {
    let name = name.rsplit(|&b| b == b'/').next().unwrap_or(name);
    let mut i = 0;
    while i + 8 <= name.len() {
        let run = name[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if run < 8 {
            i += run.max(1);
            continue;
        }
        let n = digits(&name[i..i + 8])?;
        let (y, m, d) = ((n / 10000) as i32, n / 100 % 100, n % 100);
        let mut rest = &name[i + 8..];
        if let [b'-' | b'_' | b'T', tail @ ..] = rest {
            rest = tail;
        }
        let clock = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let (hh, mm, ss) = match clock {
            6.. => (
                digits(&rest[..2])?,
                digits(&rest[2..4])?,
                digits(&rest[4..6])?,
            ),
            4 | 5 => (digits(&rest[..2])?, digits(&rest[2..4])?, 0),
            _ => (0, 0, 0),
        };
        if let Some(t) = moment(y, m, d, hh, mm, ss) {
            return Some(t);
        }
        i += run;
    }
    None
}

/// The digits and exponent of a decimal (`-12.5`, `3e2`, `0.05`) of up to
/// 38 significant digits (leading zeros are none: `0.027344381304420313`
/// has 17, as a float's shortest digits have at most).
pub fn decimal(t: &[u8]) -> Option<(i128, i32)> {
    let (neg, t) = match t {
        [b'-', r @ ..] => (true, r),
        [b'+', r @ ..] => (false, r),
        _ => (false, t),
    };
    let (mant, exp) = match t.iter().position(|&b| b == b'e' || b == b'E') {
        Some(i) => {
            let (neg, d) = match &t[i + 1..] {
                [b'-', d @ ..] => (true, d),
                [b'+', d @ ..] => (false, d),
                d => (false, d),
            };
            let e = i32::try_from(digits(d).filter(|_| d.len() <= 4)?).ok()?;
            (&t[..i], if neg { -e } else { e })
        }
        None => (t, 0),
    };
    let (int, frac) = match mant.iter().position(|&b| b == b'.') {
        Some(i) => (&mant[..i], &mant[i + 1..]),
        None => (mant, &b""[..]),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let digit = |b: &u8| b.is_ascii_digit().then(|| b - b'0');
    let m = if int.len() + frac.len() <= 19 {
        // In 64 bits where the digits fit (most numbers).
        let mut m = 0u64;
        for d in int.iter().chain(frac).map(digit) {
            m = m * 10 + u64::from(d?);
        }
        i128::from(m)
    } else {
        let (mut m, mut significant) = (0i128, 0);
        for d in int.iter().chain(frac).map(digit) {
            let d = d?;
            significant += usize::from(m != 0 || d != 0);
            if significant > 38 {
                return None;
            }
            m = m * 10 + i128::from(d);
        }
        m
    };
    let exp = exp.checked_sub(i32::try_from(frac.len()).ok()?)?;
    Some((if neg { -m } else { m }, exp))
}

/// `floor(x / w) * w` in decimal, written plainly (`-0.5`, `10`, `0.3`):
/// `x = xm 10^xe` and the width `wm 10^we` in integers of a common unit.
fn bin(field: &[u8], wm: i128, we: i32, out: &mut Vec<u8>) -> Result<(), &'static str> {
    let (xm, xe) = decimal(field.trim_ascii()).ok_or("not a number")?;
    if xm == 0 {
        out.push(b'0');
        return Ok(());
    }
    let e = xe.min(we);
    let scale = |m: i128, from: i32| {
        10i128
            .checked_pow(u32::try_from(from - e).ok()?)
            .and_then(|p| m.checked_mul(p))
    };
    let (x, w) = match (scale(xm, xe), scale(wm, we)) {
        (Some(x), Some(w)) => (x, w),
        // A value whose digits end too far below the width's to share a
        // unit with it (5e-324 binned by 0.5), but which is below
        // 10^we <= w in magnitude: in the bin at 0 or the one below it.
        _ if xe < we && xe.saturating_add(xm.unsigned_abs().ilog10() as i32 + 1) <= we => {
            write_decimal(if xm < 0 { -wm } else { 0 }, we, out);
            return Ok(());
        }
        // A value whose digits start too far above the width's (1e300
        // binned by 0.5): its own bin's start when it is a multiple of
        // the width (x / w in integers, mod wm, by powers of 10 mod wm).
        _ if xe > we && {
            let mut r = xm.rem_euclid(wm);
            let done = (0..xe - we).try_for_each(|_| {
                r = r.checked_mul(10)? % wm;
                Some(())
            });
            done.is_some() && r == 0
        } =>
        {
            write_decimal(xm, xe, out);
            return Ok(());
        }
        _ => return Err("too many digits for bin()"),
    };
    let v = match (i64::try_from(x), i64::try_from(w)) {
        // In 64 bits where both fit (128-bit division is a call).
        (Ok(x), Ok(w)) => x.div_euclid(w).checked_mul(w).map(i128::from),
        _ => x.div_euclid(w).checked_mul(w),
    };
    let v = v.ok_or("too many digits for bin()")?;
    write_decimal(v, e, out);
    Ok(())
}

/// `m x 10^e` as plain decimal text, trailing zeros cut.
fn write_decimal(m: i128, mut e: i32, out: &mut Vec<u8>) {
    if m == 0 {
        out.push(b'0');
        return;
    }
    if m < 0 {
        out.push(b'-');
    }
    // In 64 bits where the digits fit (128-bit division is a call).
    let mut b = itoa::Buffer::new();
    let mut digits = match u64::try_from(m.unsigned_abs()) {
        Ok(u) => b.format(u),
        Err(_) => b.format(m.unsigned_abs()),
    }
    .as_bytes();
    // Trailing zeros of the fraction cut from the text.
    while e < 0
        && let [rest @ .., b'0'] = digits
    {
        digits = rest;
        e += 1;
    }
    if e >= 0 {
        out.extend_from_slice(digits);
        out.extend(std::iter::repeat_n(b'0', e as usize));
        return;
    }
    let point = digits.len() as i64 + i64::from(e);
    if point <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-point) as usize));
        out.extend_from_slice(digits);
    } else {
        let p = point as usize;
        out.extend_from_slice(&digits[..p]);
        out.push(b'.');
        out.extend_from_slice(&digits[p..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(d: &Derive, text: &str, order: DateOrder) -> Result<String, &'static str> {
        let mut out = Vec::new();
        d.apply(text.as_bytes(), order, false, &mut out)?;
        Ok(String::from_utf8(out).expect("ascii"))
    }

    #[test]
    fn date_forms_and_buckets() {
        let month = Derive::Time(Unit::Month);
        for (text, want) in [
            ("2016-01-04", "2016-01"),
            ("2016-01-04 13:02:59", "2016-01"),
            ("2016-01-31T23:30:00-01:00", "2016-02"),
            ("2016/01/04", "2016-01"),
            ("20160104", "2016-01"),
            ("1939 Jan", "1939-01"),
            ("Jan 1939", "1939-01"),
            ("January 1939", "1939-01"),
            ("4 Jan 2016", "2016-01"),
            ("Jan 4, 2016", "2016-01"),
            ("2016-01", "2016-01"),
        ] {
            assert_eq!(
                key(&month, text, DateOrder::Unknown),
                Ok(want.to_owned()),
                "{text}"
            );
        }
        assert!(key(&month, "01/04/2016", DateOrder::Unknown).is_err());
        assert_eq!(
            key(&month, "01/04/2016", DateOrder::Dmy).as_deref(),
            Ok("2016-04")
        );
        assert_eq!(
            key(&month, "01/04/2016", DateOrder::Mdy).as_deref(),
            Ok("2016-01")
        );
        for bad in ["2016-02-30", "2016-13-01", "hello", "2016-01-04 25:00", ""] {
            assert!(key(&month, bad, DateOrder::Mdy).is_err(), "{bad}");
        }
        let t = "2016-01-04 13:02:59";
        for (unit, want) in [
            (Unit::Year, "2016"),
            (Unit::Quarter, "2016-Q1"),
            (Unit::Week, "2016-W01"),
            (Unit::Day, "2016-01-04"),
            (Unit::Hour, "2016-01-04T13:00"),
            (Unit::Minute, "2016-01-04T13:02"),
        ] {
            assert_eq!(
                key(&Derive::Time(unit), t, DateOrder::Unknown).as_deref(),
                Ok(want)
            );
        }
        // ISO weeks at year ends: 2021-01-03 is in 2020's week 53.
        assert_eq!(iso_week(2021, 1, 3), (2020, 53));
        assert_eq!(iso_week(2018, 12, 31), (2019, 1));
        assert_eq!(
            in_name(b"s3://b/pageviews-20160101-230000.gz").map(|m| m.hour),
            Some(23)
        );
    }

    #[test]
    fn bins_in_decimal() {
        let half = |t| {
            let mut out = Vec::new();
            bin(t, 5, -1, &mut out).map(|()| String::from_utf8(out).expect("ascii"))
        };
        assert_eq!(half(b"0.3").as_deref(), Ok("0"));
        assert_eq!(half(b"-0.05").as_deref(), Ok("-0.5"));
        assert_eq!(half(b"2.5").as_deref(), Ok("2.5"));
        assert_eq!(half(b"1e3").as_deref(), Ok("1000"));
        let mut out = Vec::new();
        bin(b"0.3", 1, -1, &mut out).expect("fits");
        assert_eq!(out, b"0.3");
        assert!(half(b"x").is_err());
        // A float's shortest digits, 17 of them after zeros; values too
        // small to scale to the width.
        assert_eq!(half(b"0.027344381304420313").as_deref(), Ok("0"));
        assert_eq!(half(b"-0.027344381304420313").as_deref(), Ok("-0.5"));
        assert_eq!(half(b"5e-324").as_deref(), Ok("0"));
        assert_eq!(half(b"-5e-324").as_deref(), Ok("-0.5"));
        assert_eq!(half(b"1.2345678901234567").as_deref(), Ok("1"));
        let mut out = Vec::new();
        bin(b"-2.2250738585072014e-308", 1, 0, &mut out).expect("fits");
        assert_eq!(out, b"-1");
        let mut out = Vec::new();
        bin(b"1e300", 5, -1, &mut out).expect("a multiple of the width");
        assert_eq!(out, format!("1{}", "0".repeat(300)).as_bytes());
        assert_eq!(half(b"1.7e300"), Ok(format!("17{}", "0".repeat(299))));
        assert!(bin(b"1e300", 3, -1, &mut Vec::new()).is_err());
    }

    #[test]
    fn days_round_trip() {
        for n in [-719_468, -1, 0, 59, 10_957, 2_932_896] {
            let (y, m, d) = civil(n);
            assert_eq!(days(y, m, d), n);
        }
    }
}
