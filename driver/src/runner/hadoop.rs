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
pub fn streaming_args(job: &Job, files: &Shipped) -> anyhow::Result<Vec<String>> {
    let words = job
        .task_map_words(super::SCHEMA_FILE)
        .iter()
        .map(|w| quote(w))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mapper = std::iter::once("mapfold-map".to_owned())
        .chain(words)
        .collect::<Vec<_>>()
        .join(" ");
    let reducer = std::iter::once(Ok("mapfold-reduce".to_owned()))
        .chain(job.reduce_words().iter().map(|w| quote(w)))
        .collect::<anyhow::Result<Vec<_>>>()?
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
        "-files".to_owned(),
        shipped,
        "-mapper".to_owned(),
        mapper,
        "-combiner".to_owned(),
        "mapfold-combine".to_owned(),
        "-reducer".to_owned(),
        reducer,
    ];
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

/// Runs the job with the `hadoop` command (which must be on PATH), then
/// judges the malformed limit for the whole job from the counters records
/// in its output (`hadoop fs -cat OUTPUT/part-*`).
pub fn run(job: &Job, jar: &str, args: &[String]) -> anyhow::Result<()> {
    let hadoop = std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("hadoop"))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| PathBuf::from("hadoop"));
    let status = Command::new(&hadoop)
        .arg("jar")
        .arg(jar)
        .args(args)
        .status()
        .with_context(|| "running `hadoop` (is Hadoop installed and on PATH? --print-command shows the command)")?;
    if !status.success() {
        bail!("hadoop streaming job failed ({status}); see its log above");
    }
    let cat = Command::new(&hadoop)
        .args(["fs", "-cat", &format!("{}/part-*", job.output)])
        .output()
        .context("reading the job's counters with `hadoop fs -cat`")?;
    if !cat.status.success() {
        bail!(
            "the job finished, but `hadoop fs -cat {}/part-*` failed: {}",
            job.output,
            String::from_utf8_lossy(&cat.stderr).trim_end()
        );
    }
    let counters = super::local::counters_in_output(&cat.stdout)?;
    job.check_malformed(&counters, Some("a line the map tasks' logs name"))
        .with_context(|| {
            format!(
                "the job's output in {} holds too many malformed lines",
                job.output
            )
        })
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
            job: JobArgs {
                schema_file: None,
                value: vec!["temp".into(), "precip".into()],
                text_keys: false,
                na_values: mapfold_core::spec::DEFAULT_NA.into(),
                key: vec!["year".into()],
                schema: Some("a,precip,temp,year".into()),
                delimiter: ",".into(),
                wheres: vec!["temp >= 0.5".into()],
                hist: vec!["temp=-5:5:100".into()],
                quantiles: Some("0.5,0.99".into()),
                distinct: Vec::new(),
                corr: None,
                hist2d: None,
                quantile_error: 0.001,
                max_malformed: 0.01,
                max_groups: mapfold_core::spec::DEFAULT_MAX_GROUPS,
                max_memory: mapfold_core::spec::DEFAULT_MAX_MEMORY_MIB,
            },
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
        let a = streaming_args(&job, &s).expect("quotable");
        assert_eq!(a[0], "-D");
        assert_eq!(a[4], "-files");
        assert_eq!(a[5], "m#mapfold-map,c#mapfold-combine,r#mapfold-reduce");
        assert_eq!(
            a[7],
            "mapfold-map --value temp,precip --key year --schema a,precip,temp,year --where \"temp >= 0.5\" --hist=temp=-5:5:100 --quantiles=0.5,0.99 --quantile-error 0.001 --max-malformed 1"
        );
        // The reducer reports the quantiles asked for, and names the
        // columns.
        assert_eq!(
            a[11],
            "mapfold-reduce --quantiles=0.5,0.99 --value temp,precip"
        );
        assert_eq!(
            a[a.len() - 6..],
            ["-input", "in/", "-output", "out", "-numReduceTasks", "3"]
        );
        let line = shell_line("/opt/hadoop-streaming.jar", &a);
        assert!(
            line.starts_with("hadoop jar /opt/hadoop-streaming.jar -D 'mapreduce.job.name=mapfold")
        );
    }
}
