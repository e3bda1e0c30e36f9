//! The `hadoop jar hadoop-streaming.jar` command for a job: generic options
//! (`-D`, `-files`) first, then the streaming options. The EMR runner ships
//! the very same list as its step's arguments.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};

use super::Job;

/// Where each binary comes from, and the name it has in the task's working
/// directory (`-files SRC#NAME`).
#[derive(Debug, Clone)]
pub struct Shipped {
    pub map: String,
    pub combine: String,
    pub reduce: String,
    /// The schema file, when the job's schema is too long for the -mapper
    /// string ([`super::Job::long_schema`]).
    pub schema: Option<String>,
}

/// Quotes a word for Hadoop streaming's command splitter
/// (`StreamUtil.splitArgs`), which is not a shell: it splits at spaces
/// outside quotes, a `'` or `"` opens a quote that only the same character
/// closes, every quote also ends the word before it, there is no escape
/// character, and empty words are dropped. So a word with a space or a `'`
/// goes in double quotes, one with a `"` in single quotes; a word with both
/// quote characters, or an empty word, cannot reach the task at all.
pub fn quote(w: &str) -> anyhow::Result<String> {
    let (single, double) = (w.contains('\''), w.contains('"'));
    if w.is_empty() {
        bail!("an empty argument cannot be passed through Hadoop streaming's -mapper string");
    }
    if single && double {
        bail!(
            "{w:?} holds both a ' and a \": Hadoop streaming's -mapper string cannot carry \
             that; rename the column (or refer to it by its 1-based index and pass --schema \
             without it)"
        );
    }
    Ok(if double {
        format!("'{w}'")
    } else if single || w.contains(' ') {
        format!("\"{w}\"")
    } else {
        w.to_owned()
    })
}

/// The streaming arguments (everything after `hadoop jar JAR`), or why the
/// job's words cannot be passed through Hadoop streaming.
pub fn streaming_args(
    job: &Job,
    files: &Shipped,
    split_size: Option<u64>,
) -> anyhow::Result<Vec<String>> {
    let words = job
        .streaming_map_words()
        .iter()
        .map(|w| quote(w))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mapper = std::iter::once("mapfold-map".to_owned())
        .chain(words)
        .collect::<Vec<_>>()
        .join(" ");
    let mut shipped = format!(
        "{}#mapfold-map,{}#mapfold-combine,{}#mapfold-reduce",
        files.map, files.combine, files.reduce
    );
    match (job.long_schema(), &files.schema) {
        (Some(_), Some(f)) => shipped.push_str(&format!(",{f}#{}", super::SCHEMA_FILE)),
        (Some(_), None) => {
            bail!("the job's schema is too long for a command line and no schema file is shipped")
        }
        (None, _) => {}
    }
    for f in [&files.map, &files.combine, &files.reduce]
        .into_iter()
        .chain(&files.schema)
    {
        if f.contains([',', '#']) {
            bail!("{f}: a path shipped with -files cannot contain ',' or '#'; move the binaries");
        }
    }
    let mut a = vec![
        "-D".to_owned(),
        format!("mapreduce.job.name={}", job.title()),
        "-D".to_owned(),
        format!("mapreduce.job.reduces={}", job.reducers),
    ];
    if let Some(schema) = job.conf_schema() {
        a.extend(["-D".to_owned(), format!("mapfold.schema={schema}")]);
    }
    // Every reducer learns the job's report from here (`$mapfold_report`):
    // the counters record that also carries it reaches one of them only.
    let report = job.report_token();
    if !report.is_empty() {
        a.extend(["-D".to_owned(), format!("mapfold.report={report}")]);
    }
    if job.recursive {
        a.extend([
            "-D".to_owned(),
            "mapreduce.input.fileinputformat.input.dir.recursive=true".to_owned(),
        ]);
    }
    let format = job.format();
    a.extend(format.hadoop_conf());
    if job.job.whole_files || format.whole_files() {
        // FileInputFormat's split is max(minsize, min(maxsize, block)): a
        // minimum past any file's size makes each file one split.
        a.extend([
            "-D".to_owned(),
            format!("mapreduce.input.fileinputformat.split.minsize={}", i64::MAX),
        ]);
    } else if let Some(n) = split_size {
        // Both bounds at N make the split N whatever the block size.
        for bound in ["minsize", "maxsize"] {
            a.extend([
                "-D".to_owned(),
                format!("mapreduce.input.fileinputformat.split.{bound}={n}"),
            ]);
        }
    }
    a.extend([
        "-files".to_owned(),
        shipped,
        "-mapper".to_owned(),
        mapper,
        "-combiner".to_owned(),
        "mapfold-combine".to_owned(),
        "-reducer".to_owned(),
        "mapfold-reduce".to_owned(),
    ]);
    // A streaming option: after the generic ones (-D, -files).
    a.extend(format.hadoop_args());
    for i in &job.inputs {
        a.extend(["-input".to_owned(), i.clone()]);
    }
    a.extend([
        "-output".to_owned(),
        job.output.clone(),
        "-numReduceTasks".to_owned(),
        job.reducers.to_string(),
    ]);
    Ok(a)
}

/// `$HADOOP_STREAMING_JAR`, else the streaming jar under `$HADOOP_HOME`.
pub fn streaming_jar(flag: Option<&str>) -> anyhow::Result<String> {
    if let Some(j) = flag {
        return Ok(j.to_owned());
    }
    if let Ok(j) = std::env::var("HADOOP_STREAMING_JAR") {
        return Ok(j);
    }
    if let Ok(home) = std::env::var("HADOOP_HOME") {
        let pattern = format!("{home}/share/hadoop/tools/lib/hadoop-streaming-*.jar");
        if let Some(p) = glob::glob(&pattern)
            .ok()
            .and_then(|mut g| g.find_map(Result::ok))
        {
            return Ok(p.display().to_string());
        }
    }
    bail!(
        "cannot find hadoop-streaming.jar: set HADOOP_STREAMING_JAR (or HADOOP_HOME), or pass --streaming-jar"
    )
}

/// The full command line, quoted for a shell (for --print-command).
pub fn shell_line(jar: &str, args: &[String]) -> String {
    let sh = mapfold_core::cli::shell_word;
    std::iter::once("hadoop jar".to_owned())
        .chain(std::iter::once(sh(jar)))
        .chain(args.iter().map(|a| sh(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A Hadoop cluster reached by the `hadoop` command: the streaming jar,
/// the binaries its tasks get, and the split size.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub jar: String,
    pub shipped: Shipped,
    pub split_size: Option<u64>,
}

impl super::Runner for Cluster {
    /// The output stays on the cluster.
    fn run(&self, job: &Job) -> anyhow::Result<Option<PathBuf>> {
        run(job, &self.jar, &self.shipped, self.split_size)?;
        Ok(None)
    }
}

/// Runs the job with the `hadoop` command (which must be on PATH) into a
/// hidden sibling of the output, judges the malformed limit for the whole
/// job from the counters records there (`hadoop fs -cat`), and only then
/// moves it into place (`hadoop fs -mv`, a rename): a job that fails the
/// limit leaves no output and no `_SUCCESS` for anything waiting on it.
/// A failed `hadoop jar` exits with Hadoop's status and its last lines.
pub fn run(job: &Job, jar: &str, files: &Shipped, split_size: Option<u64>) -> anyhow::Result<()> {
    let hadoop = std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("hadoop"))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| PathBuf::from("hadoop"));
    let fs = |args: &[&str]| {
        Command::new(&hadoop)
            .arg("fs")
            .args(args)
            .output()
            .with_context(|| format!("running `hadoop fs {}`", args.join(" ")))
    };
    let out = job.output.trim_end_matches('/');
    if fs(&["-test", "-e", out])?.status.success() {
        bail!(
            "the output {out} already exists and Hadoop will not overwrite it: choose another --output, or remove it (`hadoop fs -rm -r {out}`)"
        );
    }
    let tmp = match out.rsplit_once('/') {
        Some((dir, name)) => format!("{dir}/.{name}.mapfold-staging-{}", std::process::id()),
        None => format!(".{out}.mapfold-staging-{}", std::process::id()),
    };
    let mut staged = job.clone();
    staged.output.clone_from(&tmp);
    let args = streaming_args(&staged, files, split_size)?;
    let result = run_and_commit(&hadoop, jar, &args, job, &tmp, &fs);
    if result.is_err() {
        // Whatever the job left is removed; nothing was committed.
        let _ = fs(&["-rm", "-r", "-f", &tmp]);
    }
    result
}

fn run_and_commit(
    hadoop: &std::path::Path,
    jar: &str,
    args: &[String],
    job: &Job,
    tmp: &str,
    fs: &dyn Fn(&[&str]) -> anyhow::Result<std::process::Output>,
) -> anyhow::Result<()> {
    let mut child = Command::new(hadoop)
        .arg("jar")
        .arg(jar)
        .args(args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .with_context(|| "running `hadoop` (is Hadoop installed and on PATH? --print-command shows the command)")?;
    // Hadoop's log goes on to the terminal as it comes; its last lines are
    // kept for the error.
    let mut last: std::collections::VecDeque<String> = std::collections::VecDeque::new();
    if let Some(err) = child.stderr.take() {
        use std::io::BufRead;
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            eprintln!("{line}");
            if last.len() == 20 {
                last.pop_front();
            }
            last.push_back(line);
        }
    }
    let status = child.wait().context("waiting for `hadoop jar`")?;
    if !status.success() {
        let code = status
            .code()
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(1);
        let tail: Vec<&str> = last
            .iter()
            .map(String::as_str)
            .filter(|l| l.contains("ERROR") || l.contains("rror:") || l.contains("Failed"))
            .collect();
        return Err(mapfold_core::error::Exit {
            code: code.max(1),
            message: format!(
                "hadoop streaming job failed (exit {code}){}",
                if tail.is_empty() {
                    "; see its log above".to_owned()
                } else {
                    format!(":\n{}", tail.join("\n"))
                }
            ),
        }
        .into());
    }
    let cat = fs(&["-cat", &format!("{tmp}/part-*")])?;
    if !cat.status.success() {
        bail!(
            "the job finished, but `hadoop fs -cat {tmp}/part-*` failed: {}",
            String::from_utf8_lossy(&cat.stderr).trim_end()
        );
    }
    let counters = super::output::counters_in_output(&cat.stdout)?;
    job.check_malformed(&counters, Some("a line the map tasks' logs name"))
        .context("nothing was committed")?;
    let out = job.output.trim_end_matches('/');
    let mv = fs(&["-mv", tmp, out])?;
    if !mv.status.success() {
        bail!(
            "the job succeeded, but moving its output into {out} failed (did it appear while \
             the job ran?): {}",
            String::from_utf8_lossy(&mv.stderr).trim_end()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mapfold_core::cli::JobArgs;

    /// Hadoop streaming's `StreamUtil.splitArgs`, ported line by line from
    /// its Java source: the reference the quoting must satisfy.
    fn split_args(args: &str) -> Vec<String> {
        #[derive(PartialEq, Clone, Copy)]
        enum S {
            Outside,
            Single,
            Double,
        }
        let ch: Vec<char> = args.chars().collect();
        let (mut out, mut state, mut start) = (Vec::new(), S::Outside, 0);
        for c in 0..=ch.len() {
            let last = c == ch.len();
            let before = state;
            let mut end = false;
            if !last {
                match ch[c] {
                    '\'' => {
                        state = match state {
                            S::Outside => S::Single,
                            S::Single => S::Outside,
                            s => s,
                        };
                        end = state != before;
                    }
                    '"' => {
                        state = match state {
                            S::Outside => S::Double,
                            S::Double => S::Outside,
                            s => s,
                        };
                        end = state != before;
                    }
                    ' ' => end = state == S::Outside,
                    _ => {}
                }
            }
            if last || end {
                if c != start {
                    out.push(ch[start..c].iter().collect());
                }
                start = c + 1;
            }
        }
        out
    }

    #[test]
    fn the_port_splits_like_hadoop() {
        assert_eq!(split_args("a  b"), ["a", "b"]);
        assert_eq!(split_args("a 'b c' \"d'e\""), ["a", "b c", "d'e"]);
        // A quote ends the word before it; empty words vanish.
        assert_eq!(split_args("ab'cd'"), ["ab", "cd"]);
        assert_eq!(split_args("'' x"), ["x"]);
        assert_eq!(split_args("a\tb"), ["a\tb"]);
    }

    proptest::proptest! {
        /// Any words: quoted and joined, Hadoop's splitter gives them back,
        /// or quoting refuses them (empty, or both quote characters).
        #[test]
        fn quoted_words_survive_hadoop_splitting(
            words in proptest::collection::vec("[a-z ,='\"\té\\$;*-]{0,8}", 1..6)
        ) {
            let quoted: Result<Vec<String>, _> = words.iter().map(|w| quote(w)).collect();
            let refused = words.iter().any(|w| w.is_empty() || (w.contains('\'') && w.contains('"')));
            match quoted {
                Ok(q) => {
                    proptest::prop_assert!(!refused);
                    proptest::prop_assert_eq!(split_args(&q.join(" ")), words);
                }
                Err(_) => proptest::prop_assert!(refused),
            }
        }
    }

    #[test]
    fn args_in_hadoop_order() {
        let job = Job {
            recursive: false,
            job: JobArgs::from_words(&[
                "--value",
                "temp,precip",
                "--key",
                "year",
                "--schema",
                "a,precip,temp,year",
                "--where",
                "temp >= 0.5",
                "--hist=temp=-5:5:100",
                "--quantiles=0.5,0.99",
                "--quantile-error",
                "0.001",
            ])
            .expect("valid words"),
            inputs: vec!["in/".into()],
            output: "out".into(),
            reducers: 3,
        };
        let s = Shipped {
            map: "m".into(),
            combine: "c".into(),
            reduce: "r".into(),
            schema: None,
        };
        let a = streaming_args(&job, &s, Some(1 << 20)).expect("quotable");
        assert_eq!(a[0], "-D");
        // The schema by the job configuration, the split size as both of
        // FileInputFormat's bounds.
        assert_eq!(a[5], "mapfold.schema=a,precip,temp,year");
        // The report every reducer reads ($mapfold_report).
        let report = a[7].strip_prefix("mapfold.report=").expect("report");
        let words = mapfold_core::cli::WhatArgs::decode(report.as_bytes()).expect("decodes");
        assert_eq!(
            words.to_words(),
            [
                "--value",
                "temp,precip",
                "--hist=temp=-5:5:100",
                "--quantiles=0.5,0.99",
                "--quantile-error=0.001"
            ]
        );
        let split = "mapreduce.input.fileinputformat.split";
        assert_eq!(a[9], format!("{split}.minsize=1048576"));
        assert_eq!(a[11], format!("{split}.maxsize=1048576"));
        assert_eq!(a[12], "-files");
        assert_eq!(a[13], "m#mapfold-map,c#mapfold-combine,r#mapfold-reduce");
        assert_eq!(
            a[15],
            "mapfold-map --value temp,precip --hist=temp=-5:5:100 --quantiles=0.5,0.99 --quantile-error=0.001 --key year --where \"temp >= 0.5\" --max-malformed 1"
        );
        // The reducer needs no flags.
        assert_eq!(a[19], "mapfold-reduce");
        assert_eq!(
            a[a.len() - 6..],
            ["-input", "in/", "-output", "out", "-numReduceTasks", "3"]
        );
        let line = shell_line("/opt/hadoop-streaming.jar", &a);
        assert!(
            line.starts_with("hadoop jar /opt/hadoop-streaming.jar -D 'mapreduce.job.name=mapfold")
        );
        // --recursive by FileInputFormat's own property.
        let recursive = Job {
            recursive: true,
            ..job
        };
        let a = streaming_args(&recursive, &s, None).expect("quotable");
        let at = a
            .iter()
            .position(|w| w == "mapreduce.input.fileinputformat.input.dir.recursive=true")
            .expect("the recursive property");
        assert_eq!(a[at - 1], "-D");
    }
}
