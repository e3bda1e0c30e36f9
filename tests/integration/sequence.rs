//! Hadoop SequenceFiles, written by a writer that follows Hadoop's
//! `SequenceFile.Writer` (tests/seqfile.py: uncompressed, record- and
//! block-compressed, with zlib, gzip, bzip2, zstd and LZO from liblzo2):
//! their records reach the mapper as `SequenceFileAsTextInputFormat`
//! gives them, so a job over them gives the bytes of the same job over the
//! `KEY<TAB>VALUE` text, at every split size, locally and through the test
//! Hadoop (whose record reader follows `SequenceFileRecordReader`).

use crate::util::{bash, ok, written_by};

const SCHEMA: &str = "row,ngram,year,match_count,page_count,volume_count";
const JOB: &str = "--value match_count --key year --distinct ngram --hist=0:5000:10";

fn part_files(out: &std::path::Path) -> String {
    ok(&format!("cat {}/part-*", out.display()))
}

#[test]
fn sequence_files_give_the_bytes_of_their_text() {
    let d = written_by("tests/integration/sequence.d/ngrams.py", "");
    let at = |p: &str| d.path().join(p);
    let out = |name: &str| at(&format!("out-{name}"));
    ok(&format!(
        "mapfold run --quiet --input {} --output {} --delimiter tab --schema {SCHEMA} {JOB}",
        at("text/data.tsv").display(),
        out("text").display()
    ));
    let text = part_files(&out("text"));
    assert!(text.contains("\"distinct\""), "{text}");
    let names: Vec<String> = std::fs::read_dir(at("seq"))
        .expect("seq dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 10, "{names:?}");
    for (i, name) in names.iter().enumerate() {
        // Every file cut at the smallest split, one also whole.
        let splits: &[&str] = if i == 0 {
            &["", "--split-size 1"]
        } else {
            &["--split-size 1"]
        };
        for &split in splits {
            let o = out(&format!("{name}{}", split.len()));
            // Recognised by its start: no --input-format, no --delimiter.
            ok(&format!(
                "mapfold run --quiet --input {} --output {} --schema {SCHEMA} {JOB} {split}",
                at(&format!("seq/{name}")).display(),
                o.display()
            ));
            assert_eq!(part_files(&o), text, "{name} {split}");
            let m = crate::util::manifest(&o);
            assert_eq!(m["counters"]["lines_in"], 12000, "{name}");
            if !split.is_empty() {
                // Cut at SequenceFileInputFormat's smallest split, 100 KiB.
                let splits = m["splits"].as_array().expect("splits");
                assert!(splits.len() > 1, "{name}: {splits:?}");
                assert_eq!(splits[0]["length"], 102_400, "{name}");
            }
        }
    }
    // The test Hadoop cuts and reads them as Hadoop does, given the input
    // format the runner passes.
    for name in ["none-plain-2000", "record-lzo-3000", "block-bzip2-0"] {
        let o = out(&format!("hadoop-{name}"));
        ok(&format!(
            "FAKE_HADOOP_BLOCK_SIZE=4096 {} mapfold run --quiet --runner \
             hadoop --streaming-jar /opt/s.jar --input {} --output {} --schema {SCHEMA} {JOB}",
            crate::util::fake_hadoop_path(),
            at(&format!("seq/{name}")).display(),
            o.display()
        ));
        assert_eq!(part_files(&o), text, "{name} on Hadoop");
    }
    // Hadoop's own class name for the format, after the generic options.
    let line = ok(&format!(
        "mapfold run --print-command --runner hadoop --input-format sequence --input \
         hdfs:///ngrams/ --output out --schema {SCHEMA} {JOB}"
    ));
    let words: Vec<&str> = line.split(' ').collect();
    let i = words
        .iter()
        .position(|w| *w == "-inputformat")
        .expect("-inputformat");
    assert_eq!(
        words[i + 1],
        "org.apache.hadoop.mapred.SequenceFileAsTextInputFormat"
    );
    assert!(i > words.iter().position(|w| *w == "-files").expect("-files"));
    assert!(line.contains("--delimiter tab"), "{line}");

    // Other Writables as toString() shows them: IntWritable keys and
    // BytesWritable values (hex pairs), block-compressed.
    let count = |input: &str, o: &str| {
        ok(&format!(
            "mapfold run --quiet --input {} --output {} --delimiter tab --key 2 --text-keys",
            at(input).display(),
            out(o).display()
        ));
        part_files(&out(o))
    };
    let expected = count("other.txt", "other-text");
    assert!(expected.contains("\"count\""), "{expected}");
    assert_eq!(count("other.seq", "other-seq"), expected);
}

#[test]
fn damaged_or_mixed_sequence_inputs_fail_and_commit_nothing() {
    let d = written_by("tests/integration/sequence.d/ngrams.py", "");
    let at = |p: &str| d.path().join(p);
    // Cut in the middle of a block.
    let data = std::fs::read(at("seq/block-zlib-0")).expect("read");
    std::fs::create_dir(at("cut")).expect("mkdir");
    std::fs::write(at("cut/part-00000"), &data[..data.len() / 2]).expect("write");
    let o = bash(&format!(
        "mapfold run --quiet --input {} --output {} --schema {SCHEMA} {JOB}",
        at("cut").display(),
        at("out-cut").display()
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("SequenceFile") && err.contains("part-00000"),
        "{err}"
    );
    assert!(!at("out-cut").exists());
    // One job, one input format, as on Hadoop.
    let o = bash(&format!(
        "mapfold run --quiet --input {},{} --output {} --schema {SCHEMA} {JOB}",
        at("seq/none-plain-2000").display(),
        at("text/data.tsv").display(),
        at("out-mixed").display()
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("is a SequenceFile but"), "{err}");
    let o = bash(&format!(
        "mapfold run --quiet --input-format sequence --input {} --output {} --schema {SCHEMA} \
         {JOB}",
        at("text/data.tsv").display(),
        at("out-text").display()
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not a SequenceFile"), "{err}");
}
