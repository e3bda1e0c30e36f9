//! Binary arrays written by NumPy (`np.save`, `ndarray.tofile`): every
//! dtype, 1-D and 2-D, gives the bytes of the same numbers written as CSV
//! by Python (floats as `repr` writes them), at every split size, locally
//! and through the test Hadoop (FixedLengthInputFormat records handed over
//! as rawbytes), and in a plain pipe.

use crate::util::{bash, ok, written_by};

/// Each array, its value columns and a job over them.
const JOBS: [(&str, usize, &str, &str); 26] = [
    // Group measures (a pair, distinct values; also u64 below).
    (
        "f64x3",
        3,
        "f64",
        "--value 0,2 --key 1 --hist=0=-3:3:10 --quantiles --distinct 2 --corr 0,2 --where '2>-0.5'",
    ),
    // One number per row (the number path), NaN and infinities among them.
    ("f64x2", 2, "f64", "--value 1 --hist=-3:3:10"),
    ("u8", 1, "u8", "--value 0 --hist=0:256:256 --quantiles"),
    (
        "i8",
        1,
        "i8",
        "--value 0 --hist=-100:100:7 --quantiles=0.1,0.5",
    ),
    ("i16x2", 2, "i16", "--value 0 --key 1"),
    ("bool", 1, "bool", "--key 0"),
    ("bool", 1, "bool", "--value 0"),
    ("f32", 1, "f32", "--value 0 --quantiles=0.5,0.99"),
    ("u64", 1, "u64", "--value 0 --distinct 0"),
    ("i64", 1, "i64", "--value 0 --hist=-5e18:5e18:7"),
    ("u16", 1, "u16", "--value 0 --hist=0:65536:16"),
    ("i32", 1, "i32", "--value 0 --quantiles"),
    ("u32", 1, "u32", "--value 0"),
    // Past one read (rows of 24 bytes cross the reads' ends) and past one
    // run of numbers; values of every magnitude in column 2.
    ("wide", 3, "f64", "--value 2 --hist=-3:3:10 --quantiles"),
    ("wide", 3, "f64", "--value 0"),
    // Filters and keys read from the numbers: a run's values past two
    // filters (NaN among them); every row its own key (the mapper passes
    // them on); two keys and a row count; one-byte values past a filter; a
    // missing-value text that is a number.
    (
        "f64x2",
        2,
        "f64",
        "--value 1 --where '0>0.5' --where '1!=-0.25' --quantiles",
    ),
    ("wide", 3, "f64", "--key 1 --value 0 --where '2<1e10'"),
    ("i16x2", 2, "i16", "--key 1,0 --where '0>=-100'"),
    ("u8", 1, "u8", "--value 0 --where '0<128' --hist=0:256:256"),
    ("u8", 1, "u8", "--value 0 --na-values 0,NA"),
    // Several value columns read from the numbers, NaN among them.
    (
        "f64x3",
        3,
        "f64",
        "--value 0,2 --hist=0=-3:3:10 --quantiles --where '1<=1'",
    ),
    ("i16x2", 2, "i16", "--value 0,1 --key 1"),
    // A derived key, a text comparison, a time bucket of numbers (each
    // read from the row's numbers as their text).
    (
        "f64x2",
        2,
        "f64",
        "--key 'bin(0, 0.5)' --value 1 --quantiles",
    ),
    ("i16x2", 2, "i16", "--value 0 --where '1==\"3\"'"),
    ("days", 1, "u32", "--key 'month(0)'"),
    // Numbers that are no dates: every row malformed.
    ("i16x2", 2, "i16", "--key 'day(0)' --max-malformed 1"),
];

fn run(input: &str, output: &std::path::Path, extra: &str) -> String {
    ok(&format!(
        "mapfold run --quiet --overwrite --input {input} --output {} {extra} && cat {}/part-*",
        output.display(),
        output.display()
    ))
}

#[test]
fn arrays_give_the_bytes_of_the_same_numbers_as_csv() {
    let d = written_by("tests/integration/arrays.d/make.py", "");
    let at = |p: &str| d.path().join(p).display().to_string();
    let out = |p: &str| d.path().join(format!("out-{p}"));
    for (name, cols, dtype, job) in JOBS {
        let schema: Vec<String> = (0..cols).map(|i| i.to_string()).collect();
        let schema = schema.join(",");
        // The CSV's header names the columns 0..N-1, as the array's are
        // named (a name, not the 1-based index `1` would be).
        let csv = run(
            &at(&format!("{name}.csv")),
            &out(&format!("{name}-csv")),
            &format!("{job} --header yes"),
        );
        assert!(csv.contains("\"header\":1"), "{name}: {csv}");
        let plain = run(
            &at(&format!("{name}.nohead.csv")),
            &out(&format!("{name}-nohead")),
            &format!("{job} --schema {schema} --header no"),
        );
        // The .npy file cut in many splits (a few of the large one), the
        // raw one whole.
        let npy_bytes = std::fs::metadata(at(&format!("{name}.npy")))
            .expect("npy")
            .len();
        let npy = run(
            &at(&format!("{name}.npy")),
            &out(&format!("{name}-npy")),
            &format!(
                "{job} --split-size {}",
                if npy_bytes > 1 << 20 {
                    npy_bytes / 4
                } else {
                    4096
                }
            ),
        );
        assert_eq!(npy, csv, "{name}.npy");
        let raw = run(
            &at(&format!("{name}.raw")),
            &out(&format!("{name}-raw")),
            &format!("{job} --input-format raw --dtype {dtype} --columns {cols}"),
        );
        assert_eq!(raw, plain, "{name}.raw");
    }
    // Cut in pieces: the splits hold whole rows.
    let m = crate::util::manifest(&out("f64x2-npy"));
    assert!(m["splits"].as_array().expect("splits").len() > 5);

    // The test Hadoop reads them as FixedLengthInputFormat records, framed
    // as rawbytes: a header of whole rows splits (f64x2, u8), one that is
    // not (f64x3: 128 bytes, rows of 24) makes each file one split.
    for (name, extra) in [
        ("f64x3.npy", ""),
        ("f64x2.npy", ""),
        ("u8.raw", "--input-format raw --dtype u8"),
    ] {
        let (stem, _) = name.split_once('.').expect("dot");
        let (.., job) = JOBS.into_iter().find(|j| j.0 == stem).expect("a job");
        let expected = if extra.is_empty() {
            run(
                &at(&format!("{stem}.csv")),
                &out(&format!("{stem}-csv2")),
                &format!("{job} --header yes"),
            )
        } else {
            run(
                &at(&format!("{stem}.nohead.csv")),
                &out(&format!("{stem}-nohead2")),
                &format!("{job} --schema 0 --header no"),
            )
        };
        let o = out(&format!("hadoop-{name}"));
        ok(&format!(
            "FAKE_HADOOP_BLOCK_SIZE=4096 {} mapfold run --quiet --runner \
             hadoop --streaming-jar /opt/s.jar --input {} --output {} {job} {extra}",
            crate::util::fake_hadoop_path(),
            at(name),
            o.display()
        ));
        assert_eq!(
            ok(&format!("cat {}/part-*", o.display())),
            expected,
            "{name} on Hadoop"
        );
    }
    // Hadoop's own names for the format and its settings.
    let line = ok(&format!(
        "mapfold run --print-command --runner hadoop --input {} --output out --value 0",
        at("f64x2.npy")
    ));
    for w in [
        "fixedlengthinputformat.record.length=16",
        "stream.map.input=rawbytes",
        "-inputformat org.apache.hadoop.mapred.FixedLengthInputFormat",
        "--input-format raw --dtype f64 --columns 2 --data-offset 128",
    ] {
        assert!(line.contains(w), "{w} in {line}");
    }
    // A plain pipe reads the rows after the header it is told of.
    let piped = ok(&format!(
        "mapfold-map --input-format raw --dtype f64 --columns 3 --data-offset 128 {} < {} \
         | LC_ALL=C sort | mapfold-combine | mapfold-reduce",
        JOBS[0].3,
        at("f64x3.npy")
    ));
    assert_eq!(
        piped,
        run(
            &at("f64x3.csv"),
            &out("f64x3-csv3"),
            &format!("{} --header yes", JOBS[0].3)
        )
    );
}

#[test]
fn arrays_mapfold_cannot_read_are_refused_saying_why() {
    let d = written_by("tests/integration/arrays.d/make.py", "");
    let at = |p: &str| d.path().join(p).display().to_string();
    for (name, why) in [
        ("fortran.npy", "Fortran order"),
        ("cube.npy", "dimensions"),
        ("big.npy", "big-endian"),
    ] {
        let o = bash(&format!(
            "mapfold run --quiet --input {} --output {} --value 0",
            at(name),
            at(&format!("out-{name}"))
        ));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(why), "{name}: {err}");
    }
    // A file that ends inside a row fails its task and commits nothing.
    let o = bash(&format!(
        "mapfold run --quiet --input {} --output {} --value 0 --input-format raw --dtype f64 \
         --columns 3",
        at("cut.raw"),
        at("out-cut")
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("into a row"), "{err}");
    assert!(!d.path().join("out-cut").exists());
    // Text and arrays do not mix in one job.
    let o = bash(&format!(
        "mapfold run --quiet --input {},{} --output {} --value 0",
        at("u8.npy"),
        at("u8.csv"),
        at("out-mixed")
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("one input format"), "{err}");
}
