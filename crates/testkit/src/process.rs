//! Child processes (etcd, API servers) that cannot outlive the test process.
//!
//! Three layers, because a test binary can end in many ways:
//! - `Drop` of [`ChildGuard`] kills the child (private control planes, panicking tests);
//! - an `atexit` handler kills everything still registered and removes run directories
//!   (the shared control plane lives in a static and is never dropped);
//! - `PR_SET_PDEATHSIG(SIGKILL)` makes the kernel kill children when the test process dies
//!   for any other reason (abort, SIGKILL). The signal fires when the *thread* that forked the
//!   child exits, so all children are forked from one dedicated thread that lives as long as
//!   the process (tokio test runtimes and their threads come and go between tests).

use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::mpsc;
use std::sync::{Mutex, Once, OnceLock};

struct SpawnRequest {
    cmd: Command,
    reply: mpsc::Sender<io::Result<Child>>,
}

fn spawner() -> &'static Mutex<mpsc::Sender<SpawnRequest>> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("testkit-spawner".into())
            .spawn(move || {
                // The sender lives in a static, so this loop (and thread) never ends.
                for mut req in rx {
                    let _ = req.reply.send(spawn_here(&mut req.cmd));
                }
            })
            .expect("failed to start the testkit spawner thread");
        Mutex::new(tx)
    })
}

fn spawn_here(cmd: &mut Command) -> io::Result<Child> {
    // SAFETY: getpid is always safe.
    let parent = unsafe { libc::getpid() };
    // SAFETY: the closure only calls async-signal-safe functions (prctl, getppid).
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died between fork and prctl: then nobody will kill us.
            if libc::getppid() != parent {
                return Err(io::Error::other("parent exited during spawn"));
            }
            Ok(())
        });
    }
    cmd.spawn()
}

/// Spawns `cmd` from the long-lived spawner thread, with PR_SET_PDEATHSIG(SIGKILL).
pub(crate) fn spawn(cmd: Command) -> io::Result<ChildGuard> {
    install_exit_handler();
    let (tx, rx) = mpsc::channel();
    spawner()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send(SpawnRequest { cmd, reply: tx })
        .map_err(|_| io::Error::other("testkit spawner thread is gone"))?;
    let child = rx
        .recv()
        .map_err(|_| io::Error::other("testkit spawner thread is gone"))??;
    registry().pids.push(child.id());
    Ok(ChildGuard { child: Some(child) })
}

/// A child process that is killed (SIGKILL) and reaped when dropped.
#[derive(Debug)]
pub(crate) struct ChildGuard {
    child: Option<Child>,
}

impl ChildGuard {
    pub(crate) fn id(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// The exit status if the child has already exited.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            let pid = child.id();
            registry().pids.retain(|p| *p != pid);
        }
    }
}

/// A run directory removed on drop (or at exit, for the shared control plane).
#[derive(Debug)]
pub(crate) struct RunDir {
    path: PathBuf,
    keep: bool,
}

impl RunDir {
    /// Creates `$TMPDIR/cm-testkit-<pid>-<n>`; the pid lets later runs remove leftovers of
    /// processes that were killed before they could clean up.
    pub(crate) fn create() -> io::Result<Self> {
        sweep_stale_dirs();
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("cm-testkit-{}-{n}", std::process::id()));
        if path.exists() {
            std::fs::remove_dir_all(&path)?;
        }
        std::fs::create_dir_all(&path)?;
        registry().dirs.push(path.clone());
        Ok(Self {
            path,
            keep: std::env::var_os("TESTKIT_KEEP_DIR").is_some(),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        registry().dirs.retain(|d| d != &self.path);
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn sweep_stale_dirs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("cm-testkit-")) else {
                continue;
            };
            let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
                continue;
            };
            if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    });
}

#[derive(Default)]
struct Registry {
    pids: Vec<u32>,
    dirs: Vec<PathBuf>,
}

struct Guarded(Mutex<Registry>);

impl Guarded {
    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn registry_cell() -> &'static Guarded {
    static REGISTRY: OnceLock<Guarded> = OnceLock::new();
    REGISTRY.get_or_init(|| Guarded(Mutex::new(Registry::default())))
}

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    registry_cell().lock()
}

fn install_exit_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: registering a plain extern "C" function.
        unsafe {
            libc::atexit(at_exit);
        }
    });
}

extern "C" fn at_exit() {
    // Other threads still run during exit; never block on the lock here.
    let Ok(reg) = registry_cell().0.try_lock() else {
        return;
    };
    for pid in &reg.pids {
        // SAFETY: kill(2) on a pid this process spawned and has not reaped.
        unsafe {
            libc::kill(*pid as libc::pid_t, libc::SIGKILL);
        }
    }
    for pid in &reg.pids {
        let mut status = 0;
        // SAFETY: reaping our own child.
        unsafe {
            libc::waitpid(*pid as libc::pid_t, &mut status, 0);
        }
    }
    if std::env::var_os("TESTKIT_KEEP_DIR").is_none() {
        for dir in &reg.dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
