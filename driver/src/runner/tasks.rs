//! Running one streaming process the way a Hadoop task runs it: its
//! environment, stdin fed from a thread, stdout to a file or memory, stderr
//! kept for counters and for the message when it fails.

use std::io::{self, Read, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};

use anyhow::Context;

/// How much of a failed task's stderr to show.
const STDERR_TAIL: usize = 4096;

/// What a finished process left behind.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Finished {
    /// The last lines of stderr, without Hadoop protocol lines.
    pub fn stderr_tail(&self) -> String {
        let text = String::from_utf8_lossy(&self.stderr);
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with("reporter:"))
            .collect();
        let joined = kept.join("\n");
        let cut = joined.len().saturating_sub(STDERR_TAIL);
        let start = (cut..=joined.len())
            .find(|&i| joined.is_char_boundary(i))
            .unwrap_or(joined.len());
        joined[start..].to_owned()
    }
}

/// A task's standard input.
pub enum Stdin<F> {
    /// Written by the function on its own thread. A write that fails because
    /// the process closed its stdin is not an error here: the process's exit
    /// status tells.
    Feed(F),
    /// A file, already positioned.
    File(std::fs::File),
}

/// Runs `bin args` with `env`, writing stdin with `feed` on its own thread.
pub fn run(
    bin: &Path,
    args: &[String],
    env: &[(String, String)],
    feed: impl FnOnce(&mut dyn Write) -> io::Result<()> + Send,
) -> anyhow::Result<Finished> {
    run_with(bin, args, env, Stdin::Feed(feed))
}

/// Runs `bin args` with `env` and the given stdin; stdout is kept in memory.
pub fn run_with<F: FnOnce(&mut dyn Write) -> io::Result<()> + Send>(
    bin: &Path,
    args: &[String],
    env: &[(String, String)],
    stdin: Stdin<F>,
) -> anyhow::Result<Finished> {
    run_to(bin, args, env, stdin, Out::Memory)
}

/// Where a task's stdout goes.
pub enum Out<'a> {
    /// Into [`Finished::stdout`].
    Memory,
    /// Straight into a file (a part file: the output never passes through
    /// this process's memory).
    File(std::fs::File),
    /// Chunk by chunk into a function, as it arrives (a map task's output,
    /// partitioned and spilled as it comes). When the function fails, the
    /// task's stdout is closed and the run fails with its error.
    Sink(&'a mut (dyn FnMut(&[u8]) -> io::Result<()> + Send)),
}

/// [`run_with`], with stdout going where `out` says.
pub fn run_to<F: FnOnce(&mut dyn Write) -> io::Result<()> + Send>(
    bin: &Path,
    args: &[String],
    env: &[(String, String)],
    stdin: Stdin<F>,
    out: Out<'_>,
) -> anyhow::Result<Finished> {
    let (stdio, feed) = match stdin {
        Stdin::Feed(f) => (Stdio::piped(), Some(f)),
        Stdin::File(file) => (Stdio::from(file), None),
    };
    let (stdout_to, mut sink) = match out {
        Out::Memory => (Stdio::piped(), None),
        Out::File(f) => (Stdio::from(f), None),
        Out::Sink(s) => (Stdio::piped(), Some(s)),
    };
    let mut child = Command::new(bin)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(stdio)
        .stdout(stdout_to)
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let _registered = super::interrupt::task(child.id());
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let mut stderr = child.stderr.take().context("child stderr")?;
    let (fed, out, err) = std::thread::scope(|s| {
        let f = s.spawn(move || match (feed, stdin) {
            (Some(feed), Some(mut stdin)) => {
                let r = feed(&mut stdin);
                drop(stdin);
                r
            }
            _ => Ok(()),
        });
        let e = s.spawn(move || {
            let mut v = Vec::new();
            stderr.read_to_end(&mut v).map(|_| v)
        });
        let mut v = Vec::new();
        let o = match (stdout, sink.as_mut()) {
            (Some(mut s), Some(sink)) => {
                // Read in chunks into the sink; on its error the pipe is
                // dropped here, so the task ends instead of blocking.
                let mut buf = vec![0u8; 1 << 16];
                loop {
                    match s.read(&mut buf) {
                        Ok(0) => break Ok(v),
                        Ok(n) => {
                            if let Err(e) = sink(&buf[..n]) {
                                break Err(e);
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                }
            }
            (Some(mut s), None) => s.read_to_end(&mut v).map(|_| v),
            (None, _) => Ok(v),
        };
        (
            f.join()
                .unwrap_or_else(|_| Err(io::Error::other("feeder panicked"))),
            o,
            e.join()
                .unwrap_or_else(|_| Err(io::Error::other("stderr reader panicked"))),
        )
    });
    let status = child.wait().context("waiting for a task")?;
    let stdout = out.context("reading task output")?;
    let stderr = err.context("reading task stderr")?;
    if let Err(e) = fed
        && status.success()
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        return Err(e).context("feeding task input");
    }
    Ok(Finished {
        status,
        stdout,
        stderr,
    })
}

/// The environment Hadoop streaming gives a task: job configuration with
/// non-alphanumerics turned into `_`, plus the old aliases.
#[derive(Debug, Clone)]
pub struct TaskIds {
    pub job: String,
    pub maps: usize,
    pub reduces: u32,
}

impl TaskIds {
    fn base(&self, kind: char, index: usize, attempt: u32) -> Vec<(String, String)> {
        let suffix = self.job.trim_start_matches("job_");
        let task = format!("task_{suffix}_{kind}_{index:06}");
        let attempt = format!("attempt_{suffix}_{kind}_{index:06}_{attempt}");
        let is_map = (kind == 'm').to_string();
        let v = vec![
            ("mapreduce_job_id", self.job.clone()),
            ("mapreduce_job_maps", self.maps.to_string()),
            ("mapreduce_job_reduces", self.reduces.to_string()),
            ("mapreduce_task_id", task.clone()),
            ("mapreduce_task_attempt_id", attempt.clone()),
            ("mapreduce_task_ismap", is_map.clone()),
            ("mapreduce_task_partition", index.to_string()),
            ("mapred_job_id", self.job.clone()),
            ("mapred_tip_id", task),
            ("mapred_task_id", attempt),
            ("mapred_task_is_map", is_map),
            ("mapred_task_partition", index.to_string()),
        ];
        v.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    pub fn map_env(
        &self,
        index: usize,
        attempt: u32,
        file_uri: &str,
        start: u64,
        length: u64,
    ) -> Vec<(String, String)> {
        let mut v = self.base('m', index, attempt);
        for (k, val) in [
            ("mapreduce_map_input_file", file_uri.to_owned()),
            ("mapreduce_map_input_start", start.to_string()),
            ("mapreduce_map_input_length", length.to_string()),
            ("map_input_file", file_uri.to_owned()),
            ("map_input_start", start.to_string()),
            ("map_input_length", length.to_string()),
        ] {
            v.push((k.to_owned(), val));
        }
        v
    }

    pub fn reduce_env(&self, partition: u32, attempt: u32) -> Vec<(String, String)> {
        self.base('r', partition as usize, attempt)
    }
}

/// `file:` URI of a local path, as Hadoop writes `mapreduce_map_input_file`.
pub fn file_uri(p: &Path) -> String {
    format!("file:{}", p.display())
}
