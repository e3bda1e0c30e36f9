//! SIGINT, SIGTERM and SIGHUP during a local job: stop the tasks, remove
//! the staging directory, leave the output as it was, exit 130 (128 + 2, as
//! a shell reports an interrupted command; 143 and 129 for the others).
//!
//! A watcher thread receives the signals (signal-hook's iterator: no code
//! of ours runs in a signal handler). The runner registers what a signal
//! must undo: task processes while they run, the staging directory until
//! it is committed. Committing holds the same lock, so a signal either
//! comes before the commit (nothing is written) or after it (the output is
//! whole); never in the middle of the swap.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, Once};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

#[derive(Default)]
struct Live {
    tasks: Vec<u32>,
    staging: Vec<PathBuf>,
}

static LIVE: Mutex<Live> = Mutex::new(Live {
    tasks: Vec::new(),
    staging: Vec::new(),
});

fn live() -> MutexGuard<'static, Live> {
    // A panicking holder leaves the list usable: it is plain data.
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Starts the watcher (once per process).
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Ok(mut signals) = Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            eprintln!("mapfold: warning: cannot watch for signals; an interrupted job may leave its staging directory");
            return;
        };
        std::thread::spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let mut l = live();
                for &pid in &l.tasks {
                    let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
                }
                for dir in l.staging.drain(..) {
                    let _ = std::fs::remove_dir_all(&dir);
                }
                let name = match sig {
                    SIGINT => "interrupted",
                    SIGTERM => "terminated",
                    _ => "hung up",
                };
                eprintln!("\nmapfold: {name}: tasks stopped, staging removed, output untouched");
                std::process::exit(128 + sig);
            }
        });
    });
}

/// Registers a running task process; dropping the guard unregisters it.
pub fn task(pid: u32) -> TaskGuard {
    live().tasks.push(pid);
    TaskGuard(pid)
}

#[derive(Debug)]
pub struct TaskGuard(u32);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        live().tasks.retain(|&p| p != self.0);
    }
}

/// Registers a staging directory for removal on a signal.
pub fn staging(dir: PathBuf) {
    live().staging.push(dir);
}

/// Holds off the signal watcher while a commit swaps directories, and
/// forgets `dir` (committed or removed) when done.
pub fn committing<T>(dir: &std::path::Path, f: impl FnOnce() -> T) -> T {
    let mut l = live();
    let r = f();
    l.staging.retain(|d| d != dir);
    r
}

/// Forgets a staging directory that was removed normally.
pub fn forget(dir: &std::path::Path) {
    live().staging.retain(|d| d != dir);
}
