//! Compressed inputs, chosen by suffix as Hadoop's codecs are: `.gz`,
//! `.bz2`, `.zst` and `.deflate` files written by Python's own compressors
//! and the zstandard package give the plain file's bytes on the local
//! runner at any split size, and through the test Hadoop.

use crate::util::ok;

#[test]
fn every_codec_gives_the_plain_files_bytes() {
    let d = crate::util::written_by(
        "tests/integration/compressed.d/compress.py",
        "fixtures/weather/0.csv",
    );
    let job = "--value temp --key year --hist=-5:5:10";
    let run = |name: &str, extra: &str| {
        let out = d.path().join(format!("out-{name}-{}", extra.len()));
        ok(&format!(
            "mapfold run --quiet --input {} --output {} {job} {extra} && cat {}/part-*",
            d.path().join(name).display(),
            out.display(),
            out.display()
        ))
    };
    let plain = run("data.csv", "");
    assert!(plain.contains("\"count\""), "{plain}");
    for name in [
        "data.csv.gz",
        "data.csv.bz2",
        "data.csv.zst",
        "data.csv.deflate",
    ] {
        assert_eq!(run(name, ""), plain, "{name}");
        assert_eq!(
            run(name, "--split-size 1000"),
            plain,
            "{name}, small splits"
        );
    }
    // A .bz2 file of many blocks is cut at them: every split size gives
    // the plain file's bytes.
    let big = run(
        "big.csv",
        "--schema country,town,year,month,precip,temp --header no",
    );
    for split in ["--split-size 40000", "--split-size 7000"] {
        let extra = format!("--schema country,town,year,month,precip,temp --header no {split}");
        assert_eq!(run("big.csv.bz2", &extra), big, "big.csv.bz2 {split}");
    }
    let m = crate::util::manifest(&d.path().join(format!(
        "out-big.csv.bz2-{}",
        "--schema country,town,year,month,precip,temp --header no --split-size 7000".len()
    )));
    assert!(m["splits"].as_array().expect("splits").len() > 10, "{m}");
    // The test Hadoop decompresses by suffix too; the runner passes the
    // file as it is.
    for name in ["data.csv.bz2", "data.csv.zst"] {
        let out = d.path().join(format!("hadoop-{name}"));
        ok(&format!(
            "{} mapfold run --quiet --runner hadoop --streaming-jar /opt/s.jar \
             --input {} --output {} {job} --schema country,town,year,month,precip,temp",
            crate::util::fake_hadoop_path(),
            d.path().join(name).display(),
            out.display()
        ));
        assert_eq!(
            ok(&format!("cat {}/part-*", out.display())),
            plain,
            "{name} on Hadoop"
        );
    }
}
