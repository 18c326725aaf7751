//! One test run as its own process, watched from outside: in its own process
//! group (so a timeout kills everything it started), in the sandbox when
//! there is one (its own PID namespace: nothing it starts outlives it), with
//! the memory of its whole process tree polled, its output captured and its
//! exit decoded. This is the grader's guard against student code; the
//! test's own limits (testkit) are the inner one.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::capture::{Capture, Captured};
use crate::error::{Context, Result};
use crate::sandbox::{Jail, Sandbox};

/// How often memory and the deadline are checked.
const POLL: Duration = Duration::from_millis(50);

/// What to start and the limits to hold it to.
pub struct Launch<'a> {
    /// The executable.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Working directory.
    pub cwd: PathBuf,
    /// Kill after this long.
    pub timeout: Duration,
    /// Kill past this resident set size, in bytes.
    pub max_rss: u64,
    /// Where stdout and stderr go.
    pub log: PathBuf,
    /// Most bytes of output the log keeps.
    pub log_cap: u64,
    /// The libtest name, for scanning its lines.
    pub test: String,
    /// Set by Ctrl-C: kill and stop.
    pub interrupt: &'a AtomicBool,
    /// The run's secret for authenticating its report (see
    /// `testkit::seal`): handed over through a pipe the child inherits,
    /// never through the environment.
    pub key: Option<[u8; testkit::seal::KEY_LEN]>,
    /// Run inside this sandbox; `None` runs the program directly.
    pub confine: Option<Confinement<'a>>,
}

/// Where a sandboxed run runs and what it may see.
pub struct Confinement<'a> {
    /// The sandbox.
    pub sandbox: &'a Sandbox,
    /// What the run sees beyond the system's files.
    pub jail: Jail,
    /// Most processes and threads it may have at once.
    pub max_threads: u64,
    /// The user it is dropped to ([`Sandbox::user_for`]), if any.
    pub user: Option<u32>,
}

/// The only environment variable a sandboxed run gets besides the
/// launch's own: a `PATH` of the system's folders.
const SANDBOX_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// A pipe holding a run's key, its read end to be inherited by the run.
struct KeyPipe {
    read: std::os::fd::OwnedFd,
}

impl KeyPipe {
    /// A close-on-exec pipe with `key` written into it and its write end
    /// closed, so the reader sees the key and then end of file.
    fn new(key: &[u8]) -> Result<KeyPipe> {
        use std::io::Write as _;
        use std::os::fd::FromRawFd as _;
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: pipe2 writes two descriptors into the array we own.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(crate::error::GraderError::new(format!(
                "cannot create the key pipe for a run: {}",
                std::io::Error::last_os_error()
            )));
        }
        // SAFETY: both descriptors were just created and are owned here.
        let (read, write) = unsafe {
            (
                std::os::fd::OwnedFd::from_raw_fd(fds[0]),
                std::os::fd::OwnedFd::from_raw_fd(fds[1]),
            )
        };
        let mut w = File::from(write);
        w.write_all(key)
            .context(|| "cannot write a run's key into its pipe".to_string())?;
        drop(w);
        Ok(KeyPipe { read })
    }
}

/// How the process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// It exited with this code.
    Exited(i32),
    /// A signal we did not send killed it.
    Signalled(i32),
    /// We killed it at its deadline.
    TimedOut,
    /// We killed it past its memory limit, at this RSS (bytes).
    OutOfMemory(u64),
    /// We killed it because the grader was interrupted.
    Interrupted,
}

/// The outcome of a supervised run.
#[derive(Clone, Debug)]
pub struct Supervised {
    /// How it ended.
    pub ending: Ending,
    /// Wall-clock time from start to end.
    pub wall: Duration,
    /// Peak resident set size in bytes (the larger of the polled VmHWM and
    /// the kernel's ru_maxrss).
    pub peak_rss: u64,
    /// What its output held.
    pub captured: Captured,
}

/// Starts `launch` and watches it to the end.
pub fn supervise(launch: &Launch<'_>) -> Result<Supervised> {
    let file = File::create(&launch.log)
        .context(|| format!("cannot create log file {}", launch.log.display()))?;
    let capture = Capture::new(file, launch.log_cap, &launch.test);
    let start = Instant::now();
    let pipe = launch.key.as_ref().map(|k| KeyPipe::new(k)).transpose()?;
    let mut command = match &launch.confine {
        Some(c) => {
            let mut cmd = Command::new(c.sandbox.program());
            cmd.args(c.sandbox.run_args(
                &c.jail,
                c.max_threads,
                c.user,
                &launch.program,
                &launch.args,
            ))
            // Nothing of the grader's environment reaches the run.
            .env_clear()
            .env("PATH", SANDBOX_PATH);
            cmd
        }
        None => {
            let mut cmd = Command::new(&launch.program);
            cmd.args(&launch.args)
                .env_remove(testkit::seal::KEY_FD_VAR)
                // Backtraces through the tester's internals bury the
                // failure; a run gets one only when the launch asks
                // (`--backtrace`).
                .env_remove("RUST_BACKTRACE")
                .env_remove("RUST_LIB_BACKTRACE");
            cmd
        }
    };
    let mut key_fd: libc::c_int = -1;
    if let Some(p) = &pipe {
        use std::os::fd::{AsFd as _, AsRawFd as _};
        if let Some(c) = &launch.confine {
            c.sandbox.hand_over_fd(p.read.as_fd(), c.user).context(|| {
                "cannot hand the run's key pipe over to its sandboxed user".to_string()
            })?;
        }
        key_fd = p.read.as_raw_fd();
        command.env(testkit::seal::KEY_FD_VAR, key_fd.to_string());
    }
    // SAFETY: between fork and exec only async-signal-safe calls are
    // allowed; close_range, fcntl and close are. Every descriptor above
    // stderr is marked close-on-exec (those the grader itself inherited
    // without the flag included), then the key's is cleared of it, so the
    // run gets stdin, stdout, stderr and its key, and nothing else.
    unsafe {
        command.pre_exec(move || {
            close_all_above_stderr_on_exec();
            if key_fd >= 0 && libc::fcntl(key_fd, libc::F_SETFD, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&launch.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .context(|| format!("cannot start {}", launch.program.display()))?;
    // The child has its copy of the key's read end; the grader needs none.
    drop(pipe);
    let pid = child.id() as libc::pid_t;
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let mut readers = 0;
    if let Some(out) = child.stdout.take() {
        let (c, tx) = (capture.clone(), done_tx.clone());
        thread::spawn(move || {
            c.drain(out);
            let _ = tx.send(());
        });
        readers += 1;
    }
    if let Some(err) = child.stderr.take() {
        let (c, tx) = (capture.clone(), done_tx.clone());
        thread::spawn(move || {
            c.drain(err);
            let _ = tx.send(());
        });
        readers += 1;
    }
    drop(done_tx);

    let deadline = start + launch.timeout;
    let mut polled_peak = 0u64;
    let mut killed: Option<Ending> = None;
    loop {
        if exited_without_reaping(pid) {
            break;
        }
        if let Some((rss, hwm)) = tree_rss(pid) {
            polled_peak = polled_peak.max(hwm).max(rss);
            if rss > launch.max_rss && killed.is_none() {
                killed = Some(Ending::OutOfMemory(rss));
            }
        }
        if killed.is_none() && launch.interrupt.load(Ordering::SeqCst) {
            killed = Some(Ending::Interrupted);
        }
        if killed.is_none() && Instant::now() >= deadline {
            killed = Some(Ending::TimedOut);
        }
        if killed.is_some() {
            kill_group(pid);
        }
        thread::sleep(POLL);
    }
    // The leader is gone but is not reaped yet, so its pid (the group id)
    // cannot be reused: kill whatever it left behind in its group.
    kill_group(pid);
    let (status, maxrss_kib) = reap(pid);
    let wall = start.elapsed();
    drop(child);
    // Readers end when every writer of the pipes is gone; a process that
    // escaped the group could hold them open, so do not wait forever.
    for _ in 0..readers {
        if done_rx.recv_timeout(Duration::from_secs(5)).is_err() {
            capture.note(
                "stopped reading output: a process outside the run's group kept the pipes open",
            );
            break;
        }
    }
    if matches!(killed, Some(Ending::Interrupted)) {
        capture.note(
            "the grader was interrupted (Ctrl-C) and killed this run before it finished; it has no verdict and is scored as not run",
        );
    }
    if let Some(e) = capture.write_error() {
        capture.note(&format!("writing this log failed: {e}"));
    }
    let captured = capture.finish();
    let ending = killed.unwrap_or(match status {
        // bwrap reports a run killed by signal N as exit status 128 + N.
        Status::Code(c) if launch.confine.is_some() && (129..=128 + 64).contains(&c) => {
            Ending::Signalled(c - 128)
        }
        Status::Code(c) => Ending::Exited(c),
        Status::Signal(s) => Ending::Signalled(s),
    });
    Ok(Supervised {
        ending,
        wall,
        peak_rss: polled_peak.max(maxrss_kib.saturating_mul(1024)),
        captured,
    })
}

/// Marks every descriptor above 2 close-on-exec (in a child between fork
/// and exec: async-signal-safe calls only).
fn close_all_above_stderr_on_exec() {
    // SAFETY: close_range(2) with CLOSE_RANGE_CLOEXEC only sets flags on
    // this process's descriptors; no memory is touched.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if rc == 0 {
        return;
    }
    // Kernels before 5.11: flag them one by one, up to the soft limit.
    // SAFETY: getrlimit writes the struct we own.
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    let top = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        lim.rlim_cur.min(65_536) as libc::c_int
    } else {
        1024
    };
    for fd in 3..top {
        // SAFETY: fcntl on a descriptor number; a closed one gives EBADF.
        unsafe {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }
}

enum Status {
    Code(i32),
    Signal(i32),
}

/// Whether `pid` has exited, leaving it as a zombie for [`reap`].
fn exited_without_reaping(pid: libc::pid_t) -> bool {
    // SAFETY: `info` is a plain C struct, zero-initialised as waitid(2)
    // requires for detecting "no state change" with WNOHANG.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to `info`; `pid` is our own child.
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    if rc != 0 {
        // EINTR: ask again at the next poll. ECHILD: already reaped, which
        // only we do; treat as exited.
        return std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR);
    }
    // SAFETY: reading the pid field of a siginfo filled by waitid.
    unsafe { info.si_pid() != 0 }
}

/// Reaps `pid`; returns its status and ru_maxrss in KiB.
fn reap(pid: libc::pid_t) -> (Status, u64) {
    let mut status: libc::c_int = 0;
    // SAFETY: zeroed rusage is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers; `pid` is our own child.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc == pid {
            break;
        }
        if rc == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return (Status::Code(-1), 0);
    }
    let maxrss = u64::try_from(usage.ru_maxrss).unwrap_or(0);
    if libc::WIFSIGNALED(status) {
        (Status::Signal(libc::WTERMSIG(status)), maxrss)
    } else {
        (Status::Code(libc::WEXITSTATUS(status)), maxrss)
    }
}

/// SIGKILL to every process in the group led by `pid`.
fn kill_group(pid: libc::pid_t) {
    // SAFETY: kill(2) with a negative pid signals that process group; the
    // group is ours (created with process_group(0)) and its leader is not
    // reaped yet, so the id cannot name anyone else's group.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
}

/// The resident memory of `pid` and every process below it: (the sum of
/// their VmRSS, the largest VmHWM), in bytes. A run split over several
/// processes (or wrapped by the sandbox) is held to its limit as a whole.
fn tree_rss(pid: libc::pid_t) -> Option<(u64, u64)> {
    let (mut rss, mut hwm) = read_rss(pid)?;
    let mut queue = children(pid);
    let mut seen = 0usize;
    while let Some(p) = queue.pop() {
        seen += 1;
        if seen > 100_000 {
            break;
        }
        if let Some((r, h)) = read_rss(p) {
            rss += r;
            hwm = hwm.max(h);
        }
        queue.extend(children(p));
    }
    Some((rss, hwm))
}

/// The children of every thread of `pid` (a child belongs to the thread
/// that started it), from /proc.
fn children(pid: libc::pid_t) -> Vec<libc::pid_t> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for task in tasks.flatten() {
        let Ok(text) = std::fs::read_to_string(task.path().join("children")) else {
            continue;
        };
        out.extend(
            text.split_whitespace()
                .filter_map(|p| p.parse::<libc::pid_t>().ok()),
        );
    }
    out
}

/// (VmRSS, VmHWM) of `pid` in bytes, from /proc.
fn read_rss(pid: libc::pid_t) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        let kib: u64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:").unwrap_or(0)))
}

/// A signal's name for reports.
pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGABRT => "SIGABRT",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGTRAP => "SIGTRAP",
        _ => return format!("signal {sig}"),
    };
    format!("{name} (signal {sig})")
}
