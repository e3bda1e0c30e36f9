//! Every kind of bad line lands in exactly one counter, and the counters
//! reach both the reducer's JSON and Hadoop's stderr protocol.

use crate::util::{PIPE, bash, counters, fixture, ok};

/// (fixture, [lines_in, blank, header, malformed, filtered, missing, nonfinite, used])
const CASES: &[(&str, [u64; 8])] = &[
    ("short-rows.csv", [5, 0, 1, 2, 0, 0, 0, 2]),
    ("extra-fields.csv", [4, 0, 1, 2, 0, 0, 0, 1]),
    ("text-in-number.csv", [5, 0, 1, 2, 0, 0, 0, 2]),
    ("nan-inf.csv", [7, 0, 1, 0, 0, 0, 5, 1]),
    ("empty-values.csv", [5, 0, 1, 0, 0, 2, 0, 2]),
    ("quoted.csv", [5, 0, 1, 0, 0, 0, 0, 4]),
    ("crlf.csv", [4, 1, 1, 0, 0, 0, 0, 2]),
    ("bom.csv", [3, 0, 1, 0, 0, 0, 0, 2]),
    ("repeated-headers.csv", [6, 0, 3, 0, 0, 0, 0, 3]),
    ("invalid-utf8.csv", [4, 0, 1, 1, 0, 0, 0, 2]),
    ("blank-lines.csv", [6, 3, 1, 0, 0, 0, 0, 2]),
    ("no-final-newline.csv", [3, 0, 1, 0, 0, 0, 0, 2]),
];

#[test]
fn each_bad_input_has_exact_counters() {
    for (name, want) in CASES {
        let f = fixture(&format!("bad/{name}"));
        let out = ok(&format!(
            "mapfold-map --value temp --key year --max-malformed 1 < {} 2>/dev/null | {PIPE}",
            f.display()
        ));
        assert_eq!(&counters(&out), want, "{name}:\n{out}");
        // The same numbers on stderr, for Hadoop.
        let o = bash(&format!(
            "mapfold-map --value temp --key year --max-malformed 1 < {} 2>&1 >/dev/null",
            f.display()
        ));
        let err = String::from_utf8_lossy(&o.stdout);
        for (i, n) in crate::util::COUNTERS.iter().enumerate() {
            let line = format!("reporter:counter:mapfold,{n},{}", want[i]);
            assert!(
                err.lines().any(|l| l == line),
                "{name}: missing {line} in\n{err}"
            );
        }
    }
}

#[test]
fn quoted_fields_parse_and_key_correctly() {
    let f = fixture("bad/quoted.csv");
    let out = ok(&format!(
        "mapfold-map --value temp --key year,town < {} | {PIPE}",
        f.display()
    ));
    let m = crate::util::parse_reduced(&out);
    assert_eq!(m["2000,0"]["count"], 1);
    assert_eq!(m["2000,\"Saint-Denis, Reunion\""]["mean"], 2.5);
    assert_eq!(m["2000,\"say \"\"hi\"\"\""]["sum"], 3.5);
    assert_eq!(m["\"2000,1\",0"]["max"], 4.5);
}

#[test]
fn a_one_megabyte_line_is_handled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("big.csv");
    let mut data = b"country,town,year,month,precip,temp\n".to_vec();
    data.extend(std::iter::repeat_n(b'x', 1 << 20));
    data.extend_from_slice(b"\n0,");
    data.extend(std::iter::repeat_n(b'y', 1 << 20));
    data.extend_from_slice(b",2000,1,0.5,1.5\n0,0,2000,1,0.5,2.5\n");
    std::fs::write(&p, data).expect("write");
    let out = ok(&format!(
        "mapfold-map --value temp --max-malformed 1 < {} | {PIPE}",
        p.display()
    ));
    assert_eq!(counters(&out), [4, 0, 1, 1, 0, 0, 0, 2]);
    assert_eq!(crate::util::parse_reduced(&out)["*"]["sum"], 4.0);
}

#[test]
fn too_many_malformed_fails_naming_file_and_line() {
    let f = fixture("bad/short-rows.csv");
    let o = crate::util::bash_env(
        &format!(
            "mapfold-map --value temp --key year < {} > /dev/null",
            f.display()
        ),
        &[
            ("mapreduce_map_input_file", "file:/data/weather/17.csv"),
            ("mapreduce_map_input_start", "0"),
        ],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("2 of 5 input lines are malformed"), "{err}");
    assert!(err.contains("line 4 of file:/data/weather/17.csv"), "{err}");
    assert!(err.contains("5 fields where the schema has 6"), "{err}");
    // Allowed fraction: 2/5 = 0.4 passes at 0.4, fails just below.
    let at = bash(&format!(
        "mapfold-map --value temp --max-malformed 0.4 < {} >/dev/null",
        f.display()
    ));
    assert!(at.status.success());
    let below = bash(&format!(
        "mapfold-map --value temp --max-malformed 0.39 < {} >/dev/null",
        f.display()
    ));
    assert!(!below.status.success());
}

#[test]
fn names_without_header_or_schema_say_what_to_do() {
    let o = bash("printf '0,0,2000,1,0.5,1.5\\n' | mapfold-map --value temp");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--schema"), "{err}");
    // With --schema, a headerless split resolves names.
    let out = ok(
        "printf '0,0,2000,1,0.5,1.5\\n' | mapfold-map --value temp --schema country,town,year,month,precip,temp | sort | mapfold-reduce",
    );
    assert_eq!(crate::util::parse_reduced(&out)["*"]["sum"], 1.5);
    // By index, no names needed; a non-numeric first line is the header.
    let out = ok("printf 'a,b\\n1,2\\n3,4\\n' | mapfold-map --value 2 | sort | mapfold-reduce");
    assert_eq!(counters(&out), [3, 0, 1, 0, 0, 0, 0, 2]);
}

#[test]
fn bad_flags_are_clear_errors() {
    for (flags, needle) in [
        ("--value temp --hist 5:1:10", "LO (5) must be below HI (1)"),
        ("--value temp --where 'temp=>3'", "--where"),
        (
            "--value nope --schema a,b",
            "column \"nope\" is not in the schema (a,b)",
        ),
        ("--value temp --delimiter ab", "--delimiter"),
    ] {
        let o = bash(&format!("echo | mapfold-map {flags}"));
        assert!(!o.status.success(), "{flags}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{flags}: {err}");
    }
}
