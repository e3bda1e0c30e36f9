//! The staging directory of a job's output: a hidden sibling of the output
//! directory where tasks write, made durable and renamed into place on
//! commit (the old output kept until the new one is in), removed otherwise
//! (and by the signal watcher, see [`super::interrupt`]).

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};

use super::interrupt;

/// A hidden sibling of the output directory where tasks write; renamed into
/// place on commit, removed otherwise.
pub struct Staging {
    pub dir: PathBuf,
    out: PathBuf,
    committed: bool,
}

impl Staging {
    pub fn new(out: &Path) -> anyhow::Result<Self> {
        let name = out
            .file_name()
            .context("--output needs a directory name")?
            .to_string_lossy()
            .into_owned();
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        let dir = parent.join(format!(".{name}.mapfold-staging-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        interrupt::staging(dir.clone());
        Ok(Self {
            dir,
            out: out.to_path_buf(),
            committed: false,
        })
    }

    /// Makes the staged output durable (every file and the directory
    /// fsynced), then renames it into place. An existing output (with
    /// `--overwrite`) is first moved to a backup name no other run uses,
    /// restored if the new output cannot be renamed in, and removed only
    /// once the new one is in place.
    pub fn commit(mut self) -> anyhow::Result<()> {
        sync_tree(&self.dir)?;
        let dir = self.dir.clone();
        interrupt::committing(&dir, || self.swap())
    }

    fn swap(&mut self) -> anyhow::Result<()> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let old = self
            .dir
            .with_extension(format!("old-{}-{nanos}", std::process::id()));
        let had_old = self.out.exists();
        if had_old {
            std::fs::rename(&self.out, &old)
                .with_context(|| format!("moving the old {} aside", self.out.display()))?;
        }
        if let Err(e) = std::fs::rename(&self.dir, &self.out) {
            if had_old && let Err(back) = std::fs::rename(&old, &self.out) {
                return Err(anyhow!(
                    "committing to {} failed ({e}), and restoring the old output failed too \
                     ({back}): it is in {}",
                    self.out.display(),
                    old.display()
                ));
            }
            return Err(e).with_context(|| format!("committing to {}", self.out.display()));
        }
        self.committed = true;
        if let Some(parent) = self.out.parent() {
            sync_dir(if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            })?;
        }
        if had_old {
            std::fs::remove_dir_all(&old)
                .with_context(|| format!("removing the old output {}", old.display()))?;
        }
        Ok(())
    }
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
