//! `mapfold run --runner emr`, `mapfold emr`, `mapfold upload` against moto's
//! S3 and EMR on 127.0.0.1 (tests/emr_stack.py), whose step executor runs
//! each step with the local runner and the binaries shipped to S3.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{bin_dir, ok, root};

const SECRET: &str = "mapfoldTestSecret/9f8e7d6c5b4a3210+XyZ";
const BUCKET: &str = "mapfold-test";
const JOB: &str = "--value temp --key year --hist=-5:5:20";

/// A job whose reducer needs its own flags (the quantile list, the names
/// of the distinct and two-column measures, several value columns): a
/// step whose -reducer string lost one prints other bytes.
const RICH_JOB: &str = "--value temp,precip --key year --quantiles 0.5,0.999 --distinct town \
                        --corr temp,precip --hist2d temp=-5:5:4,precip=0:1:2";

/// The test venv's Python (scripts/test makes it, with moto[server]).
fn python() -> PathBuf {
    let p = std::env::var_os("MAPFOLD_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/test-venv/bin/python"));
    assert!(
        p.exists(),
        "{} not found: run scripts/test, which makes the venv with moto[server] (or set MAPFOLD_TEST_PYTHON)",
        p.display()
    );
    p
}

struct Stack {
    child: Child,
    endpoint: String,
    log: PathBuf,
    home: tempfile::TempDir,
}

impl Stack {
    fn start(hold_steps: bool) -> Self {
        Self::start_with(hold_steps, &[])
    }

    fn start_with(hold_steps: bool, extra: &[&str]) -> Self {
        let home = tempfile::tempdir().expect("tempdir");
        let log = home.path().join("requests.jsonl");
        let mut cmd = Command::new(python());
        cmd.arg(root().join("tests/emr_stack.py"))
            .args(["--log", &log.display().to_string(), "--bucket", BUCKET])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if hold_steps {
            cmd.arg("--hold-steps");
        }
        cmd.args(extra);
        let mut child = cmd.spawn().expect("starting the moto stack");
        let out = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(out)
            .read_line(&mut line)
            .expect("stack output");
        let endpoint = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("stack did not start: {line:?}"))
            .to_owned();
        assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
        Self {
            child,
            endpoint,
            log,
            home,
        }
    }

    /// The driver with the stack's endpoint and a fake identity, and no
    /// AWS config files of the machine (HOME is a temp dir).
    fn mapfold(&self, args: &str) -> Command {
        let mut c = Command::new("bash");
        c.args([
            "-c",
            &format!("exec {} {args}", bin_dir().join("mapfold").display()),
        ])
        .current_dir(root())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", self.home.path())
        .env("AWS_ACCESS_KEY_ID", "AKIAMAPFOLDTEST")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", &self.endpoint)
        .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &str) -> Output {
        let o = self.mapfold(args).output().expect("mapfold runs");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!all.contains(SECRET), "the secret key was printed:\n{all}");
        o
    }

    fn ok(&self, args: &str) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "mapfold {args} failed:\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect()
    }

    fn emr_calls(&self, op: &str) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r["emr"] == op)
            .collect()
    }

    /// Starts the driver in the background and returns once its step is added.
    fn spawn_until_step(&self, args: &str) -> Child {
        let child = self
            .mapfold(args)
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let start = Instant::now();
        while self.emr_calls("AddJobFlowSteps").is_empty() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the step was never added"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        child
    }

    fn cluster_state(&self, id: &str) -> String {
        let out = self.ok(&format!("emr describe --cluster {id}"));
        out.lines()
            .next()
            .and_then(|l| l.split('\t').nth(1))
            .unwrap_or_default()
            .to_owned()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn no_secret_in(dir: &Path) {
    for e in std::fs::read_dir(dir).expect("ls").filter_map(Result::ok) {
        let text = String::from_utf8_lossy(&std::fs::read(e.path()).expect("read")).into_owned();
        assert!(
            !text.contains(SECRET),
            "the secret key is in {}",
            e.path().display()
        );
    }
}

#[test]
fn emr_run_gives_the_local_runners_bytes_and_cleans_up() {
    let stack = Stack::start(false);
    let dir = tempfile::tempdir().expect("tempdir");
    let local = dir.path().join("local");
    ok(&format!(
        "mapfold run --quiet --input fixtures/weather --output {} {JOB} --reducers 2",
        local.display()
    ));
    let emr = dir.path().join("emr");
    let plot = dir.path().join("plot.svg");
    let o = stack.run(&format!(
        "run --runner emr --input fixtures/weather --output s3://{BUCKET}/out/w {JOB} --reducers 2 --local-output {} --poll-seconds 0.1 --plot {}",
        emr.display(),
        plot.display()
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    for part in ["part-00000", "part-00001"] {
        assert_eq!(
            std::fs::read(local.join(part)).expect("local"),
            std::fs::read(emr.join(part)).expect("emr"),
            "{part}"
        );
    }
    assert!(emr.join("_SUCCESS").exists() && plot.exists());
    // The cluster it made carried an idle timeout and was terminated.
    let runs = stack.emr_calls("RunJobFlow");
    assert_eq!(runs.len(), 1);
    assert_eq!(
        runs[0]["body"]["AutoTerminationPolicy"]["IdleTimeout"],
        1800
    );
    assert_eq!(runs[0]["body"]["Tags"][0]["Key"], "mapfold");
    let id = err
        .split("created cluster ")
        .nth(1)
        .and_then(|s| s.split(':').next())
        .expect("cluster id in output")
        .to_owned();
    assert!(err.contains(&format!("terminated cluster {id}")), "{err}");
    assert_eq!(stack.cluster_state(&id), "TERMINATED");
    // The step is the hadoop runner's argument list, with the binaries from S3.
    let steps = stack.emr_calls("AddJobFlowSteps");
    let args = &steps[0]["body"]["Steps"][0]["HadoopJarStep"]["Args"];
    assert_eq!(
        steps[0]["body"]["Steps"][0]["HadoopJarStep"]["Jar"],
        "command-runner.jar"
    );
    assert_eq!(args[0], "hadoop-streaming");
    let files = args
        .as_array()
        .expect("args")
        .iter()
        .position(|a| a == "-files")
        .expect("-files");
    let shipped = args[files + 1].as_str().expect("str");
    assert!(
        shipped.contains("/mapfold-staging/bin/") && shipped.contains("#mapfold-map,"),
        "{shipped}"
    );
    // The manifest records the run, without secrets.
    let m: Value = serde_json::from_str(
        &std::fs::read_to_string(emr.join("_mapfold.json")).expect("manifest"),
    )
    .expect("json");
    assert_eq!(m["runner"], "emr");
    assert_eq!(m["extra"]["cluster_id"], id.as_str());
    assert_eq!(m["extra"]["release_label"], "emr-7.14.0");
    assert_eq!(m["counters"]["lines_in"], 1443);
    no_secret_in(&emr);
    // The stack runs the step's own -mapper, -combiner and -reducer
    // strings: a job whose reducer needs flags gives the local bytes only
    // if the step carries them.
    let (rich_local, rich_emr) = (dir.path().join("rich-local"), dir.path().join("rich-emr"));
    ok(&format!(
        "mapfold run --quiet --input fixtures/weather --output {} {RICH_JOB} --reducers 2",
        rich_local.display()
    ));
    stack.ok(&format!(
        "run --runner emr --quiet --input fixtures/weather --output s3://{BUCKET}/out/rich {RICH_JOB} --reducers 2 --local-output {} --poll-seconds 0.1",
        rich_emr.display()
    ));
    for part in ["part-00000", "part-00001"] {
        let got = std::fs::read_to_string(rich_emr.join(part)).expect("emr");
        for name in ["\"p99_9\"", "\"town\"", "\"precip\"", "\"corr\""] {
            assert!(got.contains(name), "no {name} in the step's {part}:\n{got}");
        }
        assert_eq!(
            got,
            std::fs::read_to_string(rich_local.join(part)).expect("local"),
            "{part}"
        );
    }
}

/// A map task that fails (here: a file whose header changes midway, which
/// no check before the job can see) fails the step, and the run shows the
/// mapper's own message from the task log.
#[test]
fn a_failing_step_shows_the_mappers_message() {
    let stack = Stack::start(false);
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("two-headers.csv");
    std::fs::write(&input, "year,temp\n2000,1.5\ntemp,year\n2.5,2001\n").expect("write");
    let o = stack.run(&format!(
        "run --runner emr --input {} --output s3://{BUCKET}/out/bad {JOB} --local-output {}/bad --poll-seconds 0.1",
        input.display(),
        dir.path().display()
    ));
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("failed: Unknown Error.: Streaming Command Failed!"),
        "{err}"
    );
    assert!(
        err.contains("line 3 of") && err.contains("is a header that differs from the schema"),
        "the mapper's own message: {err}"
    );
    assert!(err.contains("/containers/"), "names the task log: {err}");
    assert!(err.contains("terminated cluster"), "{err}");
    assert!(!dir.path().join("bad").exists());
}

/// Too many malformed lines over the whole job: refused after the step,
/// nothing downloaded, the cluster terminated.
#[test]
fn too_many_malformed_lines_fail_the_emr_job() {
    let stack = Stack::start(false);
    let dir = tempfile::tempdir().expect("tempdir");
    let o = stack.run(&format!(
        "run --runner emr --input fixtures/bad/short-rows.csv --output s3://{BUCKET}/out/bad {JOB} --local-output {}/bad --poll-seconds 0.1",
        dir.path().display()
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("2 of 5 input lines are malformed"), "{err}");
    assert!(err.contains("terminated cluster"), "{err}");
    assert!(!dir.path().join("bad").exists());
    // The step's _SUCCESS is taken back: nothing waiting on it takes the
    // output of a job that failed the job-wide limit.
    assert!(err.contains("_SUCCESS was removed"), "{err}");
    let deleted = stack.requests().into_iter().any(|r| {
        r["method"] == "DELETE"
            && r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("out/bad/_SUCCESS"))
    });
    assert!(deleted, "no DELETE of the step's _SUCCESS");
}

#[test]
fn sigint_while_waiting_terminates_the_cluster_it_created() {
    let stack = Stack::start(true);
    let dir = tempfile::tempdir().expect("tempdir");
    let child = stack.spawn_until_step(&format!(
            "run --runner emr --input fixtures/weather/0.csv --output s3://{BUCKET}/out/int {JOB} --local-output {}/x --poll-seconds 0.1",
            dir.path().display()
    ));
    std::thread::sleep(Duration::from_millis(500));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("interrupted"), "{err}");
    let id = err
        .split("terminated cluster ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .expect("says which cluster")
        .to_owned();
    assert_eq!(stack.cluster_state(&id), "TERMINATED");
    assert!(!err.contains(SECRET));
}

#[test]
fn upload_skips_what_is_there_and_verifies_multipart() {
    let stack = Stack::start(false);
    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("big.bin");
    let data: Vec<u8> = (0..12u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&big, &data).expect("write");
    let first = stack.ok(&format!(
        "upload fixtures/weather {} s3://{BUCKET}/up/ --part-size 5 --quiet",
        big.display()
    ));
    assert!(
        first.contains(&format!(
            "uploaded s3://{BUCKET}/up/big.bin (12582912 bytes, 3 parts, verified)"
        )),
        "{first}"
    );
    assert!(
        first.contains(&format!("uploaded s3://{BUCKET}/up/weather/0.csv")),
        "{first}"
    );
    let reqs = stack.requests();
    let parts = reqs
        .iter()
        .filter(|r| {
            r["method"] == "PUT"
                && r["query"]
                    .as_str()
                    .is_some_and(|q| q.contains("partNumber"))
        })
        .count();
    assert_eq!(parts, 3, "three parts of 5, 5 and 2 MiB");
    let before = reqs.len();
    let second = stack.run(&format!(
        "upload fixtures/weather {} s3://{BUCKET}/up/ --part-size 5 --quiet",
        big.display()
    ));
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("4 already there"));
    let again = &stack.requests()[before..];
    assert!(!again.is_empty());
    assert!(
        again.iter().all(|r| r["method"] == "HEAD"),
        "the second upload sent only HEADs: {again:?}"
    );
}

#[test]
fn cluster_commands_and_dry_runs() {
    let stack = Stack::start(false);
    let id = stack
        .ok("emr create-cluster --name nightly --core-type m7g.xlarge --core-count 3 --spot 0.12 --idle-timeout 45 --tag team=data")
        .trim()
        .to_owned();
    assert!(id.starts_with("j-"), "{id}");
    let body = &stack.emr_calls("RunJobFlow")[0]["body"];
    assert_eq!(body["AutoTerminationPolicy"]["IdleTimeout"], 2700);
    assert_eq!(body["Instances"]["InstanceGroups"][1]["Market"], "SPOT");
    assert_eq!(body["Instances"]["InstanceGroups"][1]["BidPrice"], "0.12");
    assert_eq!(body["ServiceRole"], "EMR_DefaultRole");
    assert_eq!(body["JobFlowRole"], "EMR_EC2_DefaultRole");
    stack.ok(&format!(
        "emr add-nodes --cluster {id} --instance-type m7g.2xlarge --count 4"
    ));
    let described = stack.ok(&format!("emr describe --cluster {id}"));
    assert!(
        described.contains("group\tTASK\t4 x m7g.2xlarge"),
        "{described}"
    );
    assert!(described.contains("tag\tteam=data"), "{described}");
    let listed = stack.ok("emr list");
    assert!(
        listed.lines().any(|l| l.starts_with(&format!("{id}\t"))),
        "{listed}"
    );
    stack.ok(&format!("emr terminate --cluster {id}"));
    assert_eq!(stack.cluster_state(&id), "TERMINATED");
    assert!(!stack.ok("emr list").contains(&id));

    // Dry runs send nothing and print aws CLI commands.
    let before = stack.requests().len();
    let dry = stack.ok(&format!(
        "run --runner emr --dry-run --input fixtures/weather --output s3://{BUCKET}/out/dry {JOB} --split-size 65536"
    ));
    for want in [
        // The split size reaches Hadoop as FileInputFormat's bounds.
        "mapreduce.input.fileinputformat.split.minsize=65536",
        "mapreduce.input.fileinputformat.split.maxsize=65536",
        "/fixtures/weather/0.csv s3://mapfold-test/mapfold-staging/input/",
        // A file keeps its name in the stage (the tasks see it).
        "/0.csv\n",
        "aws emr create-cluster --name mapfold --release-label emr-7.14.0",
        "--auto-termination-policy IdleTimeout=1800",
        "aws emr add-steps --cluster-id \"$CLUSTER_ID\" --steps",
        "\"command-runner.jar\"",
        "aws emr terminate-clusters --cluster-ids \"$CLUSTER_ID\"",
    ] {
        assert!(dry.contains(want), "missing {want:?} in\n{dry}");
    }
    assert!(
        stack
            .ok("emr create-cluster --dry-run")
            .starts_with("aws emr create-cluster")
    );
    assert!(
        stack
            .ok(&format!(
                "upload --dry-run fixtures/weather s3://{BUCKET}/x/"
            ))
            .contains("aws s3 cp")
    );
    assert_eq!(stack.requests().len(), before, "dry runs sent requests");
}

#[test]
fn graviton_clusters_get_the_aarch64_binaries() {
    let stack = Stack::start(true);
    let dir = tempfile::tempdir().expect("tempdir");
    let child = stack.spawn_until_step(&format!(
            "run --runner emr --core-type m7g.xlarge --input fixtures/weather/0.csv --output s3://{BUCKET}/out/arm {JOB} --local-output {}/arm --poll-seconds 0.1",
            dir.path().display()
    ));
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("binaries: aarch64-unknown-linux-musl (AARCH64)"),
        "{err}"
    );
    let args = stack.emr_calls("AddJobFlowSteps")[0]["body"]["Steps"][0]["HadoopJarStep"]["Args"]
        .to_string();
    let sha = crate::util::ok("sha256sum dist/aarch64-unknown-linux-musl/mapfold-map | cut -c1-64");
    assert!(
        args.contains(&format!("bin/{}/mapfold-map#mapfold-map", sha.trim())),
        "content-addressed: {args}"
    );
}

/// Runs `job` on `input` locally and on the EMR stack (output `NAME`
/// under `dir` and the bucket), asserts the part files are the same bytes,
/// and returns them.
fn same_on_emr(stack: &Stack, dir: &Path, input: &Path, job: &str, name: &str) -> String {
    let (local, emr) = (
        dir.join(format!("{name}-local")),
        dir.join(format!("{name}-emr")),
    );
    ok(&format!(
        "mapfold run --quiet --input {} --output {} {job}",
        input.display(),
        local.display()
    ));
    stack.ok(&format!(
        "run --runner emr --input {} --output s3://{BUCKET}/out/{name} {job} --local-output {} \
         --poll-seconds 0.1",
        input.display(),
        emr.display()
    ));
    let want = std::fs::read_to_string(local.join("part-00000")).expect("local");
    assert_eq!(
        want,
        std::fs::read_to_string(emr.join("part-00000")).expect("emr")
    );
    want
}

/// Column names with quotes, spaces, commas and non-ASCII letters, and a
/// `--where` with them, reach the mapper on the cluster intact: the step's
/// -mapper string is split the way Hadoop streaming splits it (the stack
/// ports StreamUtil.splitArgs), and the parts equal the local runner's.
#[test]
fn odd_column_names_survive_hadoops_argument_splitting() {
    let stack = Stack::start(false);
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("odd.csv");
    let mut csv = String::from("driver's age,x y,w=z,näme\n");
    for i in 0..200 {
        csv += &format!("{},{}.5,{},{}\n", 18 + i % 7, i, i % 3, i % 5);
    }
    std::fs::write(&input, csv).expect("write");
    let job = r#"--value "x y" --key "driver's age,näme" --where 'x y>=10' --where "näme!=3" --hist=0:200:4"#;
    let text = same_on_emr(&stack, dir.path(), &input, job, "odd");
    assert!(
        text.lines().count() > 10 && text.contains("\"used\":152"),
        "{text}"
    );
    // A name with both quote characters cannot be carried: refused before
    // anything is uploaded or started.
    let o = stack.run(&format!(
        "run --runner emr --input {} --output s3://{BUCKET}/out/odd2 --value 'x y' --where 'x y==a\"b'\"'\"'c' --local-output {}/x",
        input.display(),
        dir.path().display()
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("cannot carry"), "{err}");
    assert!(
        stack.emr_calls("RunJobFlow").len() == 1,
        "no second cluster"
    );
}

/// Derived keys on EMR: a time bucket, a decimal bin and the input file's
/// name (as the step's tasks get it from S3), under a date filter, give
/// the local runner's bytes through the step's own `-mapper` string.
#[test]
fn derived_keys_on_emr_give_the_local_bytes() {
    let stack = Stack::start(false);
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in");
    crate::util::dated_files(&input, &[("a-20160101.csv", 1), ("b-20160102.csv", 2)], 240);
    let job = "--value x --key 'hour(when),bin(x, 2.5),file' --where 'when>=2016-01-01 06:00'";
    let want = same_on_emr(&stack, dir.path(), &input, job, "derived");
    assert!(
        want.contains("2016-01-02T13:00,2.5,b-20160102.csv\t"),
        "{want}"
    );
}

/// Data as it is stored, on EMR: a SequenceFile (block-compressed, LZO)
/// and a NumPy array, uploaded, recognised by their first bytes and read
/// by the step with Hadoop's input formats (SequenceFileAsTextInputFormat;
/// FixedLengthInputFormat records as rawbytes), give the local runner's
/// bytes.
#[test]
fn sequence_files_and_arrays_on_emr() {
    let stack = Stack::start(false);
    let ngrams = crate::util::written_by("tests/integration/sequence.d/ngrams.py", "");
    let arrays = crate::util::written_by("tests/integration/arrays.d/make.py", "");
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, input, job) in [
        (
            "seq",
            ngrams.path().join("seq/block-lzo-0"),
            "--schema row,ngram,year,match_count,page_count,volume_count --value match_count \
             --key year --distinct ngram",
        ),
        (
            "npy",
            arrays.path().join("f64x2.npy"),
            "--value 0,1 --corr 0,1",
        ),
    ] {
        let local = dir.path().join(format!("local-{name}"));
        ok(&format!(
            "mapfold run --quiet --input {} --output {} {job}",
            input.display(),
            local.display()
        ));
        let emr = dir.path().join(format!("emr-{name}"));
        stack.ok(&format!(
            "run --runner emr --input {} --output s3://{BUCKET}/out/{name} {job} --local-output {} \
             --poll-seconds 0.1",
            input.display(),
            emr.display()
        ));
        let want = std::fs::read(local.join("part-00000")).expect("local");
        assert_eq!(
            String::from_utf8_lossy(&want),
            String::from_utf8_lossy(&std::fs::read(emr.join("part-00000")).expect("emr")),
            "{name}"
        );
    }
    // The steps named the formats.
    let steps = stack.emr_calls("AddJobFlowSteps");
    let text = serde_json::to_string(&steps).expect("json");
    assert!(text.contains("SequenceFileAsTextInputFormat"), "{text}");
    assert!(text.contains("FixedLengthInputFormat") && text.contains("stream.map.input=rawbytes"));
}

/// SIGTERM while RunJobFlow is in flight (the cluster exists, its id has
/// not arrived): the runner waits for the id, terminates the cluster and
/// says so. SIGHUP is handled the same way.
#[test]
fn a_signal_during_cluster_creation_terminates_the_new_cluster() {
    for sig in ["TERM", "HUP"] {
        let stack = Stack::start_with(false, &["--slow-run-job-flow", "3"]);
        let dir = tempfile::tempdir().expect("tempdir");
        let child = stack
            .mapfold(&format!(
                "run --runner emr --input fixtures/weather/0.csv --output s3://{BUCKET}/out/sig {JOB} --local-output {}/x --poll-seconds 0.1",
                dir.path().display()
            ))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mapfold runs");
        let t0 = Instant::now();
        while stack.emr_calls("RunJobFlow").is_empty() {
            assert!(t0.elapsed() < Duration::from_secs(60), "no RunJobFlow");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(300));
        let status = Command::new("kill")
            .args([&format!("-{sig}"), &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let out = child.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{err}");
        let id = err
            .split("terminated cluster ")
            .nth(1)
            .and_then(|s| s.split(',').next())
            .unwrap_or_else(|| panic!("SIG{sig}: says which cluster it terminated: {err}"))
            .to_owned();
        assert_eq!(stack.cluster_state(&id), "TERMINATED", "SIG{sig}");
        assert!(
            stack.emr_calls("AddJobFlowSteps").is_empty(),
            "SIG{sig}: no step after the signal"
        );
    }
}

/// Inputs are staged content-addressed per set of files: two files of the
/// same name in different folders both arrive, a later run with fewer files
/// reads only its own, and the same files again upload nothing.
#[test]
fn staged_inputs_never_mix() {
    let stack = Stack::start(false);
    let dir = tempfile::tempdir().expect("tempdir");
    for (sub, rows) in [("a", "k,x\n1,1\n2,2\n"), ("b", "k,x\n1,10\n3,30\n")] {
        std::fs::create_dir(dir.path().join(sub)).expect("mkdir");
        std::fs::write(dir.path().join(sub).join("x.csv"), rows).expect("write");
    }
    let d = dir.path().display();
    let run = |inputs: &str, name: &str| -> String {
        let err = stack.ok(&format!(
            "run --runner emr --input {inputs} --output s3://{BUCKET}/out/{name} --value x --key k --local-output {d}/{name} --poll-seconds 0.1"
        ));
        let part = std::fs::read_to_string(dir.path().join(name).join("part-00000")).expect("part");
        format!("{err}{part}")
    };
    let both = run(&format!("{d}/a {d}/b"), "out-both");
    let m = crate::util::parse_reduced(
        both.lines()
            .filter(|l| l.contains('\t'))
            .collect::<Vec<_>>()
            .join("\n")
            .as_str(),
    );
    assert_eq!(m["1"]["sum"], 11.0, "{both}");
    assert_eq!(m["3"]["sum"], 30.0);
    let only_a = run(&format!("{d}/a"), "out-a");
    let m = crate::util::parse_reduced(
        only_a
            .lines()
            .filter(|l| l.contains('\t'))
            .collect::<Vec<_>>()
            .join("\n")
            .as_str(),
    );
    assert_eq!(m["1"]["sum"], 1.0, "b's file must not be read: {only_a}");
    assert!(!m.contains_key("3"));
    // The same two files again: everything is already there.
    let o = stack.run(&format!(
        "run --runner emr --input {d}/a {d}/b --output s3://{BUCKET}/out/again --value x --key k --local-output {d}/again --poll-seconds 0.1"
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && err.contains("(0 uploaded, 2 already there)"),
        "{err}"
    );
}

/// Missing static builds are found before a cluster is created.
#[test]
fn missing_binaries_fail_before_any_cluster() {
    let stack = Stack::start(false);
    let dir = tempfile::tempdir().expect("tempdir");
    let o = stack.run(&format!(
        "run --runner emr --input fixtures/weather/0.csv --output s3://{BUCKET}/out/nodist {JOB} --dist {}/nodist --local-output {}/x",
        dir.path().display(),
        dir.path().display()
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("is missing"), "{err}");
    assert!(
        stack.emr_calls("RunJobFlow").is_empty(),
        "no cluster: {err}"
    );
}

/// A header too long for a step's arguments (EMR refuses a step whose
/// strings total over 10,240 characters) travels as a file from S3 (`-files`), and the step gives the
/// local runner's bytes.
#[test]
fn a_long_header_reaches_the_step_as_a_file() {
    let stack = Stack::start(false);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text: String = (0..3000).map(|i| format!("column{i:04},")).collect();
    text.push_str("year,temp\n");
    let filler = ",".repeat(3000);
    for i in 0..50 {
        text.push_str(&format!("{filler}{},{}.5\n", 1990 + i % 3, i));
    }
    let input = dir.path().join("wide.csv");
    std::fs::write(&input, &text).expect("write");
    let local = dir.path().join("local");
    ok(&format!(
        "mapfold run --quiet --input {} --output {} {JOB}",
        input.display(),
        local.display()
    ));
    let emr = dir.path().join("emr");
    let o = stack.run(&format!(
        "run --runner emr --input {} --output s3://{BUCKET}/out/wide {JOB} --local-output {} \
         --poll-seconds 0.1",
        input.display(),
        emr.display()
    ));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read(local.join("part-00000")).expect("local"),
        std::fs::read(emr.join("part-00000")).expect("emr")
    );
    let steps = stack.emr_calls("AddJobFlowSteps");
    let args = steps[0]["body"]["Steps"][0]["HadoopJarStep"]["Args"]
        .as_array()
        .expect("args")
        .clone();
    let total: usize = args.iter().map(|a| a.as_str().map_or(0, str::len)).sum();
    assert!(
        total <= 10_240,
        "{total} characters of step arguments: EMR refuses them"
    );
    let joined: Vec<&str> = args.iter().filter_map(Value::as_str).collect();
    assert!(
        joined
            .iter()
            .any(|a| a.contains("--schema-file mapfold-schema")),
        "{joined:?}"
    );
    assert!(
        joined.iter().any(|a| a.contains("#mapfold-schema")),
        "{joined:?}"
    );
}

/// A step longer than EMR takes (its strings total over 10,240 characters)
/// is refused with what to shorten, before anything is sent.
#[test]
fn a_step_over_emrs_length_limit_is_refused() {
    let stack = Stack::start(false);
    let list: Vec<String> = (0..1500).map(|i| format!("v{i:05}")).collect();
    let o = stack.run(&format!(
        "run --runner emr --dry-run --input fixtures/weather --output s3://{BUCKET}/out/long {JOB} \
         --where 'town in {}'",
        list.join(",")
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("over EMR's 10240"),
        "{err}"
    );
    assert!(stack.emr_calls("AddJobFlowSteps").is_empty());
}

/// A file whose quoted fields hold line breaks runs on EMR as one split per
/// file, whether the driver reads it before the upload (a local input) or
/// from S3 (an S3 input: its first 64 KiB), and gives the local bytes.
#[test]
fn records_that_span_lines_are_read_whole_on_emr() {
    let stack = Stack::start(false);
    let dir = crate::util::written_by("tests/integration/csv.d/corpus.py", "");
    let d = dir.path().display();
    let job = "--value v --key k --text-keys";
    ok(&format!(
        "mapfold run --quiet --input {d}/pandas_minimal.csv --output {d}/local {job}"
    ));
    let want = std::fs::read(dir.path().join("local/part-00000")).expect("local");
    let min_size = |step: usize| {
        let steps = stack.emr_calls("AddJobFlowSteps");
        let args = &steps[step]["body"]["Steps"][0]["HadoopJarStep"]["Args"];
        args.as_array()
            .expect("args")
            .iter()
            .any(|a| a.as_str().is_some_and(|a| a.contains("split.minsize=")))
    };
    let stderr = |o: Output| {
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "{err}");
        err
    };
    let err = stderr(stack.run(&format!(
        "run --runner emr --input {d}/pandas_minimal.csv --output s3://{BUCKET}/out/a {job} --local-output {d}/a --poll-seconds 0.1"
    )));
    assert!(err.contains("read as one split"), "{err}");
    assert!(min_size(0), "the step asks for whole files");
    assert_eq!(
        std::fs::read(dir.path().join("a/part-00000")).expect("emr"),
        want
    );
    // The staged copy as an S3 input (the prefix the first step read),
    // its schema given: only its head in S3 can tell.
    let steps = stack.emr_calls("AddJobFlowSteps");
    let args = steps[0]["body"]["Steps"][0]["HadoopJarStep"]["Args"]
        .as_array()
        .expect("args")
        .clone();
    let at = args.iter().position(|a| a == "-input").expect("-input");
    let staged = args[at + 1].as_str().expect("a prefix").to_owned();
    let err = stderr(stack.run(&format!(
        "run --runner emr --input {staged} --schema k,v --output s3://{BUCKET}/out/b {job} --local-output {d}/b --poll-seconds 0.1"
    )));
    assert!(err.contains("read as one split"), "{err}");
    assert!(min_size(1), "the step asks for whole files");
    assert_eq!(
        std::fs::read(dir.path().join("b/part-00000")).expect("emr"),
        want
    );
}
