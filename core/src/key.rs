//! Keys on the wire: byte order must be the order a person expects.
//!
//! Hadoop sorts keys by unsigned bytes, so `10` would come before `9`. A key
//! field that is an integer written the usual way (an optional `-`, no
//! leading zeros, below 10^19 in magnitude) is written fixed-width so that
//! byte order is numeric order: `n >= 0` as 20 zero-padded digits, `n < 0`
//! as `-` and the 19 digits of `n + 10^19`. Every other field is text,
//! `007`, `+7` and `1.50` included, so no two fields written differently
//! are ever one group (ZIP codes, ids, words): verbatim, or in double quotes
//! (`"` doubled, `\` and control bytes escaped) when it is empty or holds a
//! `,`, `"`, `\` or control byte, so fields join with `,` without ambiguity
//! and no key can hold the tab that ends it. No text field can look like a
//! padded number (those are quoted), so the reducer can undo
//! the padding for display unambiguously ([`display`]).

/// The key of the counters record: empty, so no group can collide with it.
pub const COUNTERS_KEY: &[u8] = b"";
/// The key of the single group of a job without `--key`.
pub const ALL_KEY: &[u8] = b"*";
/// A missing key field (`NA`, an empty field, ...: `--na-values`): Hive's
/// `\N`. A text field holding a backslash is always quoted, so no text
/// field is written this way.
pub const MISSING: &[u8] = b"\\N";

/// Appends a key field, as `write` writes it, in the mapper's raw form of a
/// line's key: alone, the field's bytes; one of several, its length (4
/// bytes, little-endian) before them, filled in after it is written, so
/// that no field needs a buffer of its own.
#[inline]
pub fn push_raw_field<R>(
    out: &mut Vec<u8>,
    several: bool,
    write: impl FnOnce(&mut Vec<u8>) -> R,
) -> R {
    if !several {
        return write(out);
    }
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    let r = write(out);
    let len = (out.len() - at - 4) as u32;
    out[at..at + 4].copy_from_slice(&len.to_le_bytes());
    r
}

const TEN19: i128 = 10_000_000_000_000_000_000;

/// The integer value of a key field written the usual way: an optional
/// `-`, then `0` or digits that do not start with `0`, below 10^19 in
/// magnitude (`-0` is not).
fn integer(field: &[u8]) -> Option<i128> {
    let (neg, digits) = match field {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, field),
    };
    match digits {
        [b'0'] if !neg => Some(0),
        [b'1'..=b'9', ..] if digits.len() <= 19 => value(digits).map(|v| if neg { -v } else { v }),
        _ => None,
    }
}

/// True when a key field is an integer written with a sign or leading
/// zeros (`02134`, `+7`, `-0`): text, which the driver takes as a sign
/// that the column holds codes, not numbers (see `--text-keys`).
pub fn is_padded_integer(field: &[u8]) -> bool {
    let digits = field.strip_prefix(b"-").or(field.strip_prefix(b"+"));
    let digits = digits.unwrap_or(field);
    !digits.is_empty() && value(digits).is_some() && integer(field).is_none()
}

/// The value of a run of ASCII digits (any leading zeros), below 10^19.
fn value(digits: &[u8]) -> Option<i128> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let significant = &digits[digits.iter().take_while(|&&d| d == b'0').count()..];
    if significant.len() > 19 {
        return None;
    }
    Some(
        significant
            .iter()
            .fold(0i128, |v, &d| v * 10 + i128::from(d - b'0')),
    )
}

/// Appends the wire form of one key field.
pub fn push_field(out: &mut Vec<u8>, field: &[u8]) {
    use std::io::Write;
    if let Some(n) = integer(field) {
        // Writes to a Vec cannot fail.
        let _ = if n >= 0 {
            write!(out, "{n:020}")
        } else {
            write!(out, "-{:019}", n + TEN19)
        };
        return;
    }
    push_text(out, field);
}

/// The bytes that make a text key quoted: control bytes, `,` `"` `\`. A
/// table, as this runs once per key written, instead of four comparisons
/// per byte (docs/performance.md).
const QUOTED: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[b',' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Appends a key field as text, exactly as written (`--text-keys`): `007`
/// stays `007`. Quoted when it could be read as anything else: empty, a
/// `,` `"` `\` or control byte, or the shape of a padded number.
pub fn push_text(out: &mut Vec<u8>, field: &[u8]) {
    use std::io::Write;
    let needs_quotes =
        field.is_empty() || unpad(field).is_some() || field.iter().any(|&b| QUOTED[usize::from(b)]);
    if !needs_quotes {
        out.extend_from_slice(field);
        return;
    }
    out.push(b'"');
    for &b in field {
        match b {
            b'"' => out.extend_from_slice(b"\"\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b if b < 0x20 => {
                let _ = write!(out, "\\x{b:02x}");
            }
            b => out.push(b),
        }
    }
    out.push(b'"');
}

/// The wire key of a list of fields.
pub fn encode<'a>(fields: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_field(&mut out, f);
    }
    out
}

/// The key a person reads: numbers without their padding, text as on the
/// wire.
pub fn display(wire: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(wire.len());
    push_display(wire, &mut out);
    out
}

/// Appends [`display`] of `wire` to `out` (the reducer, once per key: no
/// vector of its own).
pub fn push_display(wire: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i <= wire.len() {
        // One field: quoted (up to its closing quote) or up to the next comma.
        let end = if wire.get(i) == Some(&b'"') {
            let mut j = i + 1;
            while j < wire.len() {
                if wire[j] == b'"' {
                    if wire.get(j + 1) == Some(&b'"') {
                        j += 2;
                        continue;
                    }
                    break;
                }
                j += 1;
            }
            memchr::memchr(b',', &wire[j.min(wire.len())..]).map_or(wire.len(), |p| j + p)
        } else {
            memchr::memchr(b',', &wire[i..]).map_or(wire.len(), |p| i + p)
        };
        let field = &wire[i..end];
        match unpad(field) {
            Some(n) => out.extend_from_slice(n.to_string().as_bytes()),
            None => out.extend_from_slice(field),
        }
        if end < wire.len() {
            out.push(b',');
        }
        i = end + 1;
    }
}

/// A displayed key's fields as written in the data (quoting undone), for
/// labels; `None` for a missing field.
pub fn fields(display: &[u8]) -> Vec<Option<Vec<u8>>> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        if display.get(i) == Some(&b'"') {
            let mut f = Vec::new();
            let mut j = i + 1;
            while j < display.len() {
                match (display[j], display.get(j + 1)) {
                    (b'"', Some(b'"')) => {
                        f.push(b'"');
                        j += 2;
                    }
                    (b'"', _) => {
                        j += 1;
                        break;
                    }
                    (b'\\', Some(b'\\')) => {
                        f.push(b'\\');
                        j += 2;
                    }
                    (b'\\', Some(b'x')) => {
                        let hex = display
                            .get(j + 2..j + 4)
                            .and_then(|h| std::str::from_utf8(h).ok());
                        f.push(
                            hex.and_then(|h| u8::from_str_radix(h, 16).ok())
                                .unwrap_or(b'?'),
                        );
                        j += 4;
                    }
                    (b, _) => {
                        f.push(b);
                        j += 1;
                    }
                }
            }
            out.push(Some(f));
            i = j;
        } else {
            let end = memchr::memchr(b',', &display[i.min(display.len())..])
                .map_or(display.len(), |p| i + p);
            let f = &display[i.min(end)..end];
            out.push((f != MISSING).then(|| f.to_vec()));
            i = end;
        }
        if i >= display.len() {
            return out;
        }
        i += 1;
    }
}

fn unpad(field: &[u8]) -> Option<i128> {
    let digits = |d: &[u8]| d.iter().all(u8::is_ascii_digit);
    match field {
        [b'0', ..] if field.len() == 20 && digits(field) => value(field),
        [b'-', rest @ ..] if rest.len() == 19 && digits(rest) => value(rest).map(|v| v - TEN19),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn enc(f: &[u8]) -> Vec<u8> {
        encode([f])
    }

    #[test]
    fn numbers_pad_and_unpad() {
        assert_eq!(enc(b"1894"), b"00000000000000001894");
        assert_eq!(enc(b"-1"), b"-9999999999999999999");
        assert_eq!(enc(b"0"), b"00000000000000000000");
        // Written another way, a number is text: never one group with it.
        assert_eq!(enc(b"007"), b"007");
        assert_eq!(enc(b"+7"), b"+7");
        assert_eq!(enc(b"-0"), b"-0");
        assert_eq!(enc(b"00"), b"00");
        assert!(is_padded_integer(b"02134") && is_padded_integer(b"+7"));
        assert!(!is_padded_integer(b"2134") && !is_padded_integer(b"0"));
        assert!(!is_padded_integer(b"x1") && !is_padded_integer(b"-"));
        assert_eq!(display(&enc(b"-42")), b"-42");
        assert_eq!(display(&encode([&b"3"[..], b"17"])), b"3,17");
        assert_eq!(display(b"*"), b"*");
        assert_eq!(display(b""), b"");
    }

    #[test]
    fn text_keys_stay_as_written() {
        let text = |f: &[u8]| {
            let mut v = Vec::new();
            push_text(&mut v, f);
            v
        };
        assert_eq!(text(b"007"), b"007");
        assert_ne!(text(b"007"), text(b"7"));
        assert_eq!(display(&text(b"02134")), b"02134");
        // A text field shaped like a padded number is quoted, so it is not
        // unpadded for display.
        assert_eq!(
            display(&text(b"00000000000000000007")),
            b"\"00000000000000000007\""
        );
        assert_ne!(text(b"\\N"), MISSING);
        assert_eq!(display(MISSING), MISSING);
        let mut two = MISSING.to_vec();
        two.push(b',');
        push_text(&mut two, b"");
        assert_eq!(fields(&display(&two)), vec![None, Some(Vec::new())]);
    }

    #[test]
    fn text_is_quoted_when_needed() {
        assert_eq!(enc(b"abc"), b"abc");
        assert_eq!(enc(b""), b"\"\"");
        assert_eq!(enc(b"a,b"), b"\"a,b\"");
        assert_eq!(enc(b"a\"b"), b"\"a\"\"b\"");
        assert_eq!(enc(b"a\tb\\"), b"\"a\\x09b\\\\\"");
        assert_eq!(enc(b"1.5"), b"1.5");
        assert_eq!(enc(b"12345678901234567890"), b"12345678901234567890");
        assert_eq!(display(&encode([&b"a,b"[..], b"5"])), b"\"a,b\",5");
    }

    proptest! {
        /// Text fields survive wire, display and [`fields`] unchanged.
        #[test]
        fn fields_undo_the_quoting(fs in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..6), 1..4)) {
            let mut wire = Vec::new();
            for (i, f) in fs.iter().enumerate() {
                if i > 0 {
                    wire.push(b',');
                }
                push_text(&mut wire, f);
            }
            let back: Vec<Vec<u8>> = fields(&display(&wire)).into_iter().map(|f| f.unwrap_or_default()).collect();
            prop_assert_eq!(back, fs);
        }

        #[test]
        fn byte_order_is_numeric_order(a in -10i128.pow(19) + 1..10i128.pow(19), b in -10i128.pow(19) + 1..10i128.pow(19)) {
            let (ea, eb) = (enc(a.to_string().as_bytes()), enc(b.to_string().as_bytes()));
            prop_assert_eq!(ea.cmp(&eb), a.cmp(&b));
            prop_assert_eq!(display(&ea), a.to_string().into_bytes());
        }

        #[test]
        fn distinct_fields_stay_distinct(a in prop::collection::vec(any::<u8>(), 0..8),
                                          b in prop::collection::vec(any::<u8>(), 0..8),
                                          c in prop::collection::vec(any::<u8>(), 0..8)) {
            prop_assert_eq!(enc(&a) == enc(&b), a == b);
            let two = encode([&a[..], &c[..]]);
            prop_assert!(!two.contains(&b'\t') && !two.contains(&b'\n'));
        }
    }
}
