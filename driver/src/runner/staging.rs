//! The staging directory of a job's output: a hidden sibling of the output
//! directory where tasks write, made durable and renamed into place on
//! commit, removed otherwise (and by the signal watcher, see
//! [`super::interrupt`]).
//!
//! The commit never deletes or replaces what it did not create. Without
//! `--overwrite` the staged directory is renamed into place only if nothing
//! is there at that moment (`renameat2(RENAME_NOREPLACE)`, one atomic
//! step, not a check followed by a rename): an output that appeared while
//! the job ran (another job, a user) is left as it is, and this job fails
//! saying so. With `--overwrite` only a previous job's output (a directory
//! holding [`crate::manifest::NAME`]) is replaced, by an atomic exchange
//! (`RENAME_EXCHANGE`), and the old one is removed only after the new one
//! is in place. Staging left by a run that died (SIGKILL, power loss) is
//! removed by the next run to the same output.

use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};

use super::interrupt;
use crate::manifest;

/// The marker between the output's name and the owner's pid in a staging
/// directory's name (`.NAME.mapfold-staging-PID`).
const MARK: &str = ".mapfold-staging-";

/// A hidden sibling of the output directory where tasks write; renamed into
/// place on commit, removed otherwise.
pub struct Staging {
    pub dir: PathBuf,
    out: PathBuf,
    overwrite: bool,
    committed: bool,
}

impl std::fmt::Debug for Staging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staging").field("dir", &self.dir).finish()
    }
}

impl Staging {
    /// Checks that `out` may be written (absent, or with `overwrite` a
    /// previous job's output), removes the staging of dead runs to the same
    /// output, and makes this run's.
    pub fn new(out: &Path, overwrite: bool) -> anyhow::Result<Self> {
        let (parent, name) = split(out)?;
        check_target(out, overwrite)?;
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        remove_dead(&parent, &name);
        let dir = parent.join(format!(".{name}{MARK}{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("removing the old {}", dir.display()))?;
        }
        std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        interrupt::staging(dir.clone());
        Ok(Self {
            dir,
            out: out.to_path_buf(),
            overwrite,
            committed: false,
        })
    }

    /// Makes the staged output durable (every file and the directory
    /// fsynced), then moves it into place (see the module's doc).
    pub fn commit(mut self) -> anyhow::Result<()> {
        sync_tree(&self.dir)?;
        let dir = self.dir.clone();
        interrupt::committing(&dir, || self.swap())
    }

    fn swap(&mut self) -> anyhow::Result<()> {
        match rename_noreplace(&self.dir, &self.out) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && self.overwrite => {
                self.replace_previous()?
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => bail!(
                "{} appeared while the job ran (another job, or someone, created it): it is left \
                 as it is and this job's output is discarded; run again with another --output, \
                 or with --overwrite to replace a previous job's output",
                self.out.display()
            ),
            Err(e) => {
                return Err(e).with_context(|| format!("committing to {}", self.out.display()));
            }
        }
        self.committed = true;
        sync_dir(&split(&self.out)?.0)?;
        // After an exchange the staging name holds the previous output.
        if self.dir.exists() {
            std::fs::remove_dir_all(&self.dir).with_context(|| {
                format!(
                    "removing the previous output, now in {}",
                    self.dir.display()
                )
            })?;
        }
        Ok(())
    }

    /// Swaps the staged output with the previous job's output at `out`,
    /// then checks that what was swapped out is one (it could have been
    /// replaced since the job started); if not, swaps back and fails.
    fn replace_previous(&mut self) -> anyhow::Result<()> {
        check_target(&self.out, true)?;
        exchange(&self.dir, &self.out)
            .with_context(|| format!("replacing {}", self.out.display()))?;
        if !self.dir.join(manifest::NAME).is_file() {
            exchange(&self.dir, &self.out).with_context(|| {
                format!(
                    "{} changed while the job ran and is no longer a mapfold output; putting it \
                     back failed: it is in {}",
                    self.out.display(),
                    self.dir.display()
                )
            })?;
            bail!(
                "{} was replaced while the job ran by something that is not a mapfold output: \
                 it is left as it is and this job's output is discarded",
                self.out.display()
            );
        }
        Ok(())
    }
}

/// The directory `out` is in and its name.
fn split(out: &Path) -> anyhow::Result<(PathBuf, String)> {
    let name = out
        .file_name()
        .with_context(|| format!("--output {}: needs a directory name", out.display()))?
        .to_string_lossy()
        .into_owned();
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Ok((parent.to_path_buf(), name))
}

/// Whether a job may write `out`: it must not exist, or with `overwrite`
/// be a previous job's output.
pub fn check_target(out: &Path, overwrite: bool) -> anyhow::Result<()> {
    let meta = match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", out.display())),
        Ok(m) => m,
    };
    if !overwrite {
        bail!(
            "output directory {} already exists; pass --overwrite to replace it, or choose \
             another --output",
            out.display()
        );
    }
    if !meta.is_dir() || !out.join(manifest::NAME).is_file() {
        bail!(
            "--overwrite replaces only a previous mapfold job's output (a directory holding \
             {}), and {} is not one: remove it yourself, or choose another --output",
            manifest::NAME,
            out.display()
        );
    }
    Ok(())
}

/// Refuses an output that is an input, holds one, or lies inside an input
/// directory: replacing it would delete the job's own data, and an output
/// inside an input directory would be read as input by the next run.
/// `inputs` are the job's input files; `args` what `--input` named.
pub fn check_apart(out: &Path, inputs: &[PathBuf], args: &[String]) -> anyhow::Result<()> {
    let out = absolute(out)?;
    for p in inputs {
        let p = absolute(p)?;
        if p.starts_with(&out) {
            bail!(
                "--output {} is or holds the input {}: choose an output outside the inputs",
                out.display(),
                p.display()
            );
        }
    }
    for a in args.iter().filter(|a| Path::new(a).is_dir()) {
        let d = absolute(Path::new(a))?;
        if out.starts_with(&d) || d.starts_with(&out) {
            bail!(
                "--output {} lies inside (or holds) the input directory {}: the next run over \
                 it would read this output as input; choose an output outside the inputs",
                out.display(),
                d.display()
            );
        }
    }
    Ok(())
}

/// `p` made absolute with symlinks resolved as far as it exists (the
/// output usually does not).
fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    let p = std::path::absolute(p).with_context(|| format!("resolving {}", p.display()))?;
    let mut tail = Vec::new();
    let mut head = p.as_path();
    loop {
        if let Ok(c) = std::fs::canonicalize(head) {
            return Ok(tail.iter().rev().fold(c, |acc: PathBuf, t| acc.join(t)));
        }
        match (head.parent(), head.file_name()) {
            (Some(parent), Some(name)) => {
                tail.push(name.to_os_string());
                head = parent;
            }
            _ => return Ok(p),
        }
    }
}

/// Removes the staging directories of `name` whose run is gone: their
/// owner's pid (in the name) is not a live process.
fn remove_dead(parent: &Path, name: &str) {
    let prefix = format!(".{name}{MARK}");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let file = e.file_name();
        let Some(rest) = file.to_str().and_then(|f| f.strip_prefix(&prefix)) else {
            continue;
        };
        let Ok(pid) = rest.parse::<i32>() else {
            continue;
        };
        if pid != std::process::id() as i32 && !alive(pid) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Whether a process of that pid exists (signal 0 checks without sending).
fn alive(pid: i32) -> bool {
    use nix::errno::Errno;
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(e) => e != Errno::ESRCH,
    }
}

/// Renames `from` to `to` unless `to` exists, in one step.
fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};
        match renameat2(AT_FDCWD, from, AT_FDCWD, to, RenameFlags::RENAME_NOREPLACE) {
            Ok(()) => return Ok(()),
            // A file system without the flag: the portable way below.
            Err(nix::errno::Errno::EINVAL | nix::errno::Errno::ENOSYS) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // Claim the name with mkdir (which fails if anything is there), then
    // rename over the empty directory just made: a rename replaces an
    // empty directory, and fails if someone put a file into it meanwhile.
    std::fs::create_dir(to)?;
    std::fs::rename(from, to).inspect_err(|_| {
        let _ = std::fs::remove_dir(to);
    })
}

/// Swaps `a` and `b` (both exist) in one step.
fn exchange(a: &Path, b: &Path) -> anyhow::Result<()> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};
        match renameat2(AT_FDCWD, a, AT_FDCWD, b, RenameFlags::RENAME_EXCHANGE) {
            Ok(()) => return Ok(()),
            Err(nix::errno::Errno::EINVAL | nix::errno::Errno::ENOSYS) => {}
            Err(e) => return Err(io::Error::from(e).into()),
        }
    }
    // Three renames through a name no other run uses.
    let tmp = a.with_extension(format!("swap-{}", std::process::id()));
    std::fs::rename(b, &tmp)?;
    if let Err(e) = std::fs::rename(a, b) {
        let _ = std::fs::rename(&tmp, b);
        return Err(anyhow!(e));
    }
    std::fs::rename(&tmp, a)?;
    Ok(())
}

/// fsyncs every file in `dir` and then `dir` itself.
fn sync_tree(dir: &Path) -> anyhow::Result<()> {
    for e in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let p = e?.path();
        if p.is_file() {
            std::fs::File::open(&p)
                .and_then(|f| f.sync_all())
                .with_context(|| format!("syncing {}", p.display()))?;
        }
    }
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
            interrupt::forget(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staged(out: &Path, overwrite: bool, file: &str) -> Staging {
        let s = Staging::new(out, overwrite).expect("staging");
        std::fs::write(s.dir.join(file), file).expect("write");
        std::fs::write(s.dir.join(manifest::NAME), "{}").expect("manifest");
        s
    }

    #[test]
    fn an_output_that_appears_during_the_job_is_kept() {
        let d = tempfile::tempdir().expect("tempdir");
        let out = d.path().join("out");
        let s = staged(&out, false, "part-00000");
        std::fs::create_dir(&out).expect("mkdir");
        std::fs::write(out.join("precious.txt"), "precious").expect("write");
        let err = s.commit().expect_err("must not replace");
        assert!(
            format!("{err:#}").contains("appeared while the job ran"),
            "{err:#}"
        );
        assert_eq!(
            std::fs::read_to_string(out.join("precious.txt"))
                .ok()
                .as_deref(),
            Some("precious")
        );
        assert!(!out.join("part-00000").exists());
        // An empty directory is not replaced either, nor a plain file.
        let out2 = d.path().join("out2");
        let s = staged(&out2, false, "part-00000");
        std::fs::create_dir(&out2).expect("mkdir");
        assert!(s.commit().is_err());
        assert_eq!(std::fs::read_dir(&out2).expect("list").count(), 0);
        let out3 = d.path().join("out3");
        let s = staged(&out3, false, "part-00000");
        std::fs::write(&out3, "a file").expect("write");
        assert!(s.commit().is_err());
        assert_eq!(
            std::fs::read_to_string(&out3).ok().as_deref(),
            Some("a file")
        );
        // Nothing of this run's is left beside them.
        let left: Vec<_> = std::fs::read_dir(d.path())
            .expect("list")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(left.iter().all(|n| !n.starts_with('.')), "{left:?}");
    }

    #[test]
    fn overwrite_replaces_only_a_previous_output() {
        let d = tempfile::tempdir().expect("tempdir");
        let out = d.path().join("out");
        staged(&out, false, "first").commit().expect("first");
        staged(&out, true, "second")
            .commit()
            .expect("second replaces a mapfold output");
        assert!(out.join("second").exists() && !out.join("first").exists());
        // A directory that is not a mapfold output is refused up front,
        // and at the commit when it was swapped in during the job.
        let mine = d.path().join("mine");
        std::fs::create_dir(&mine).expect("mkdir");
        assert!(Staging::new(&mine, true).is_err());
        let s = staged(&out, true, "third");
        std::fs::remove_dir_all(&out).expect("rm");
        std::fs::create_dir(&out).expect("mkdir");
        std::fs::write(out.join("precious.txt"), "p").expect("write");
        assert!(s.commit().is_err());
        assert!(out.join("precious.txt").exists() && !out.join("third").exists());
    }

    #[test]
    fn staging_of_a_dead_run_is_removed() {
        let d = tempfile::tempdir().expect("tempdir");
        let out = d.path().join("out");
        // A pid above the kernel's pid_max (4,194,304) is never alive.
        let dead = d.path().join(format!(".out{MARK}99999999"));
        std::fs::create_dir(&dead).expect("mkdir");
        let live = d.path().join(format!(".out{MARK}1"));
        std::fs::create_dir(&live).expect("mkdir");
        let s = Staging::new(&out, false).expect("staging");
        assert!(!dead.exists());
        assert!(live.exists(), "pid 1 is alive: its staging stays");
        drop(s);
    }

    #[test]
    fn outputs_overlapping_inputs_are_refused() {
        let d = tempfile::tempdir().expect("tempdir");
        let dir = d.path().join("in");
        std::fs::create_dir(&dir).expect("mkdir");
        let f = dir.join("good.csv");
        std::fs::write(&f, "a\n").expect("write");
        let args = [dir.display().to_string()];
        let files = [f.clone()];
        assert!(check_apart(&dir, &files, &[]).is_err(), "holds an input");
        assert!(check_apart(&f, &files, &[]).is_err(), "is an input");
        assert!(
            check_apart(&dir.join("out"), &files, &args).is_err(),
            "inside"
        );
        assert!(
            check_apart(d.path(), &files, &[]).is_err(),
            "holds the inputs' directory"
        );
        assert!(
            check_apart(&dir.join("..").join("in"), &files, &[]).is_err(),
            "other spelling"
        );
        check_apart(&d.path().join("out"), &files, &args).expect("apart");
    }
}
