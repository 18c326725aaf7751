//! The sandbox a submission's build and every test run happen in:
//! Debian's `bubblewrap` (`bwrap`), a maintained unprivileged sandboxing
//! tool, with mount, PID, network, IPC and UTS namespaces of its own.
//!
//! What a confined command sees: the system's read-only `/usr` (and the
//! `/bin`, `/lib`… links into it), the few `/etc` files a dynamic linker
//! and a C linker read, `/dev`'s device nodes, its own `/proc`, a private
//! empty `/tmp`, and exactly the folders its [`Jail`] names (read-only or
//! writable). No network, no other process (it is PID 1's child in a PID
//! namespace that dies with it, so nothing it starts outlives it), no
//! environment but what the grader sets, no descriptor but stdin (null),
//! stdout, stderr and those cleared of close-on-exec for it (the run's key).
//!
//! A test run also goes through a launcher (this grader's own executable,
//! `__sandbox-exec`): it caps the processes and threads the run may have
//! (`RLIMIT_NPROC`, counted by the kernel per user namespace, so one run's
//! thread bomb fails that run only) and, when the grader is root (whom
//! the kernel exempts from that limit), drops the run to an unprivileged
//! user of its own first ([`Sandbox::user_for`]): without a user namespace
//! the limit counts every process of that user on the machine, so each run
//! gets a user no other run has.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The first argument that makes the grader act as the sandbox's launcher.
pub const EXEC_ARG: &str = "__sandbox-exec";
/// The first argument of the probe run by [`Sandbox::detect`].
pub const PROBE_ARG: &str = "__sandbox-probe";
/// The first of the users (and groups) runs are dropped to when the grader
/// is root; each run gets one of the [`RUN_UIDS`] from here.
pub const RUN_UID_BASE: u32 = 200_000;
/// How many run users there are to draw from.
pub const RUN_UIDS: u32 = 1_000_000;
/// Where the launcher appears inside the sandbox.
const LAUNCHER_INSIDE: &str = "/run/distlab/launch";
/// The environment variable naming the `bwrap` to use (default: on `PATH`).
pub const BWRAP_VAR: &str = "DISTLAB_BWRAP";
/// The exit status the launcher uses for its own failures (a run that ends
/// with it is reported with the launcher's message, which is in its log).
const LAUNCH_FAILED: i32 = 125;

/// A working `bwrap`, found and tried once per grader process.
#[derive(Clone, Debug)]
pub struct Sandbox {
    bwrap: PathBuf,
    launcher: PathBuf,
    root: bool,
}

/// What one confined command may see beyond the system's files.
#[derive(Clone, Debug, Default)]
pub struct Jail {
    /// Folders (or files) visible read-only, at their own paths.
    pub read_only: Vec<PathBuf>,
    /// Folders visible read-write, at their own paths.
    pub writable: Vec<PathBuf>,
    /// The working directory inside (one of the paths above).
    pub cwd: PathBuf,
}

/// The system paths every confined command needs read-only: the
/// merged-`/usr` links are recreated as links, real folders bound.
const SYSTEM_DIRS: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
];
/// `/etc` entries a dynamic linker (`ld.so.cache`) and the C toolchain
/// (`alternatives`, for `cc`) read; nothing else of `/etc` is visible.
const SYSTEM_ETC: &[&str] = &["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/alternatives"];

impl Sandbox {
    /// The sandbox of this machine, or why there is none (tried once; the
    /// answer is kept for the grader's lifetime).
    pub fn detect() -> Result<Sandbox, String> {
        static FOUND: OnceLock<Result<Sandbox, String>> = OnceLock::new();
        FOUND.get_or_init(probe).clone()
    }

    /// The program to start: `bwrap`.
    pub fn program(&self) -> &Path {
        &self.bwrap
    }

    /// `bwrap`'s arguments to run `program args` (a build tool: trusted,
    /// no launcher) inside `jail`.
    pub fn build_args(&self, jail: &Jail, program: &Path, args: &[OsString]) -> Vec<OsString> {
        let mut out = self.base_args(jail, None);
        out.push("--".into());
        out.push(program.into());
        out.extend(args.iter().cloned());
        out
    }

    /// `bwrap`'s arguments to run the test `program args` inside `jail`
    /// through the launcher, with at most `max_threads` processes and
    /// threads.
    pub fn run_args(
        &self,
        jail: &Jail,
        max_threads: u64,
        user: Option<u32>,
        program: &Path,
        args: &[String],
    ) -> Vec<OsString> {
        let mut out = self.base_args(jail, Some(&self.launcher));
        if user.is_some() {
            // The launcher needs these two to drop to the run's user; the
            // drop itself clears every capability before the run starts.
            out.extend(["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"].map(OsString::from));
        }
        out.extend(["--", LAUNCHER_INSIDE, EXEC_ARG, "--max-threads"].map(OsString::from));
        out.push(max_threads.to_string().into());
        if let Some(uid) = user {
            out.push("--user".into());
            out.push(uid.to_string().into());
        }
        out.push("--".into());
        out.push(program.into());
        out.extend(args.iter().map(OsString::from));
        out
    }

    /// The user a run with secret `key` is dropped to: `None` when the
    /// grader is not root (the run keeps the grader's user, in a user
    /// namespace of its own, where the thread limit counts per namespace);
    /// as root, one drawn from the run's random key, so that concurrent
    /// runs (of this grader or another) almost surely differ (two of twelve
    /// concurrent runs share one with probability about 7 in 100,000).
    pub fn user_for(&self, key: &[u8]) -> Option<u32> {
        if !self.root {
            return None;
        }
        let mut word = [0u8; 4];
        for (w, k) in word.iter_mut().zip(key) {
            *w = *k;
        }
        Some(RUN_UID_BASE + u32::from_le_bytes(word) % RUN_UIDS)
    }

    /// Makes `dir` writable by the run's `user` (the grader, being root,
    /// hands the folder over; nothing to do without one).
    pub fn hand_over(&self, dir: &Path, user: Option<u32>) -> std::io::Result<()> {
        match user {
            Some(uid) => std::os::unix::fs::chown(dir, Some(uid), Some(uid)),
            None => Ok(()),
        }
    }

    /// Makes the pipe behind `fd` readable by the run's user: testkit
    /// opens the run's key through `/proc/self/fd`, which checks the pipe's
    /// owner, and the grader (root) created it.
    pub fn hand_over_fd(
        &self,
        fd: std::os::fd::BorrowedFd<'_>,
        user: Option<u32>,
    ) -> std::io::Result<()> {
        match user {
            Some(uid) => std::os::unix::fs::fchown(fd, Some(uid), Some(uid)),
            None => Ok(()),
        }
    }

    fn base_args(&self, jail: &Jail, launcher: Option<&Path>) -> Vec<OsString> {
        let mut out: Vec<OsString> = Vec::new();
        let mut push = |parts: &[&OsStr]| out.extend(parts.iter().map(|p| p.to_os_string()));
        push(&[
            "--die-with-parent".as_ref(),
            "--new-session".as_ref(),
            "--unshare-pid".as_ref(),
            "--unshare-net".as_ref(),
            "--unshare-ipc".as_ref(),
            "--unshare-uts".as_ref(),
            "--unshare-cgroup-try".as_ref(),
            "--hostname".as_ref(),
            "distlab-sandbox".as_ref(),
        ]);
        if !self.root {
            // Unprivileged bwrap needs a user namespace; nothing inside may
            // make another (it would carry a fresh process limit).
            push(&["--unshare-user".as_ref(), "--disable-userns".as_ref()]);
        }
        for dir in SYSTEM_DIRS {
            let p = Path::new(dir);
            match std::fs::read_link(p) {
                Ok(target) => push(&["--symlink".as_ref(), target.as_os_str(), p.as_os_str()]),
                Err(_) if p.is_dir() => push(&["--ro-bind".as_ref(), p.as_os_str(), p.as_os_str()]),
                Err(_) => {}
            }
        }
        for f in SYSTEM_ETC {
            push(&["--ro-bind-try".as_ref(), f.as_ref(), f.as_ref()]);
        }
        push(&[
            "--dev".as_ref(),
            "/dev".as_ref(),
            "--proc".as_ref(),
            "/proc".as_ref(),
            // World-writable and sticky, as /tmp is: the run's user may
            // not be the one bwrap runs as.
            "--perms".as_ref(),
            "1777".as_ref(),
            "--tmpfs".as_ref(),
            "/tmp".as_ref(),
        ]);
        // bwrap makes the folders leading to a bind point private (0700);
        // the run's user must be able to walk through them.
        let mut binds: Vec<(&str, &Path, &Path)> = jail
            .read_only
            .iter()
            .map(|p| ("--ro-bind", p.as_path(), p.as_path()))
            .chain(
                jail.writable
                    .iter()
                    .map(|p| ("--bind", p.as_path(), p.as_path())),
            )
            .collect();
        if let Some(l) = launcher {
            binds.push(("--ro-bind", l, Path::new(LAUNCHER_INSIDE)));
        }
        // A folder is bound before anything bound inside it.
        binds.sort_by_key(|(_, _, to)| to.components().count());
        let mut made: Vec<&Path> = Vec::new();
        for (_, _, to) in &binds {
            for dir in to.ancestors().skip(1) {
                if dir == Path::new("/") || dir == Path::new("/tmp") || made.contains(&dir) {
                    continue;
                }
                made.push(dir);
            }
        }
        made.sort_by_key(|d| d.components().count());
        for dir in made {
            push(&[
                "--perms".as_ref(),
                "0755".as_ref(),
                "--dir".as_ref(),
                dir.as_os_str(),
            ]);
        }
        // After /tmp's tmpfs, so a jail folder under /tmp is bound over it.
        for (how, from, to) in binds {
            push(&[how.as_ref(), from.as_os_str(), to.as_os_str()]);
        }
        push(&["--chdir".as_ref(), jail.cwd.as_os_str()]);
        out
    }
}

/// Finds `bwrap` and runs the launcher's probe in the sandbox a test run
/// would get.
fn probe() -> Result<Sandbox, String> {
    let bwrap = match std::env::var_os(BWRAP_VAR) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => on_path("bwrap").ok_or_else(|| {
            "bubblewrap (`bwrap`) is not installed or not on PATH (Debian/Ubuntu: `apt install bubblewrap`; \
             or set DISTLAB_BWRAP to its path)"
                .to_owned()
        })?,
    };
    let launcher = std::env::current_exe().map_err(|e| {
        format!("cannot find the grader's own executable for the sandbox's launcher: {e}")
    })?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let sandbox = Sandbox {
        bwrap,
        launcher,
        root,
    };
    let jail = Jail {
        read_only: Vec::new(),
        writable: Vec::new(),
        cwd: PathBuf::from("/"),
    };
    let probe_user = sandbox.user_for(&[0, 0, 0, 0]);
    let args = sandbox.run_args(
        &jail,
        64,
        probe_user,
        Path::new(LAUNCHER_INSIDE),
        &[PROBE_ARG.to_owned()],
    );
    let out = Command::new(&sandbox.bwrap)
        .args(&args)
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot start {}: {e}", sandbox.bwrap.display()))?;
    if out.status.success() && out.stdout.as_slice() == PROBE_ANSWER.as_bytes() {
        Ok(sandbox)
    } else {
        Err(format!(
            "{} cannot make a sandbox here ({}): {}; user namespaces may be disabled \
             (sysctl kernel.unprivileged_userns_clone / user.max_user_namespaces)",
            sandbox.bwrap.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// What the probe prints from inside the sandbox.
const PROBE_ANSWER: &str = "distlab sandbox ok\n";

/// `name` found in a folder of `PATH`, as an absolute path.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The grader started as the sandbox's launcher or probe (`argv[1]`):
/// does that job and exits; returns only when `argv[1]` is neither.
pub fn act_if_asked(args: &[OsString]) {
    match args.get(1).map(|a| a.as_bytes()) {
        Some(a) if a == PROBE_ARG.as_bytes() => {
            print!("{PROBE_ANSWER}");
            std::process::exit(0);
        }
        Some(a) if a == EXEC_ARG.as_bytes() => {
            let e = exec(&args[2..]);
            eprintln!("[grader sandbox] cannot start the run: {e}");
            std::process::exit(LAUNCH_FAILED);
        }
        _ => {}
    }
}

/// The launcher's options.
#[derive(Debug, PartialEq, Eq)]
struct Launch {
    max_threads: u64,
    user: Option<u32>,
    program: OsString,
    args: Vec<OsString>,
}

fn parse_launch(args: &[OsString]) -> Result<Launch, String> {
    let mut max_threads = None;
    let mut user = None;
    let mut i = 0;
    let number = |v: Option<&OsString>, what: &str| -> Result<u64, String> {
        v.and_then(|v| v.to_str())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{what} needs a whole number"))
    };
    while i < args.len() {
        match args[i].to_str() {
            Some("--max-threads") => {
                max_threads = Some(number(args.get(i + 1), "--max-threads")?);
                i += 2;
            }
            Some("--user") => {
                let u = number(args.get(i + 1), "--user")?;
                user = Some(u32::try_from(u).map_err(|_| "--user is out of range".to_owned())?);
                i += 2;
            }
            Some("--") => {
                let program = args
                    .get(i + 1)
                    .cloned()
                    .ok_or_else(|| "no program after --".to_owned())?;
                return Ok(Launch {
                    max_threads: max_threads
                        .ok_or_else(|| "--max-threads is required".to_owned())?,
                    user,
                    program,
                    args: args[i + 2..].to_vec(),
                });
            }
            _ => return Err(format!("unexpected argument {:?}", args[i])),
        }
    }
    Err("no `-- PROGRAM` given".to_owned())
}

/// Caps processes and threads, drops to the run's user if asked, and
/// replaces this process with the run. Returns only on failure.
fn exec(args: &[OsString]) -> String {
    use std::os::unix::process::CommandExt as _;
    let launch = match parse_launch(args) {
        Ok(l) => l,
        Err(e) => return e,
    };
    let limit = libc::rlimit {
        rlim_cur: launch.max_threads as libc::rlim_t,
        rlim_max: launch.max_threads as libc::rlim_t,
    };
    if let Some(uid) = launch.user {
        // SAFETY: plain system calls on this process's own credentials,
        // made before any thread is started; the order (groups, gid, uid)
        // is the one that leaves no privilege behind.
        let failed = unsafe {
            libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(uid) != 0
                || libc::setuid(uid) != 0
        };
        if failed {
            return format!(
                "cannot drop to user {uid}: {}",
                std::io::Error::last_os_error()
            );
        }
    }
    // After dropping to the run's user: the limit counts that user's
    // processes and threads in this sandbox's namespaces.
    // SAFETY: setrlimit reads the struct we own.
    if unsafe { libc::setrlimit(libc::RLIMIT_NPROC, &limit) } != 0 {
        return format!(
            "cannot limit processes to {}: {}",
            launch.max_threads,
            std::io::Error::last_os_error()
        );
    }
    let e = Command::new(&launch.program).args(&launch.args).exec();
    format!("cannot run {:?}: {e}", launch.program)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_launcher_reads_its_limit_user_and_program() {
        let l = parse_launch(&os(&[
            "--max-threads",
            "64",
            "--user",
            "65534",
            "--",
            "/bin/t",
            "--exact",
            "x",
        ]))
        .expect("parses");
        assert_eq!(
            l,
            Launch {
                max_threads: 64,
                user: Some(65534),
                program: "/bin/t".into(),
                args: os(&["--exact", "x"]),
            }
        );
        assert!(
            parse_launch(&os(&["--", "/bin/t"])).is_err(),
            "a limit is required"
        );
        assert!(parse_launch(&os(&["--max-threads", "x", "--", "/bin/t"])).is_err());
        assert!(
            parse_launch(&os(&["--max-threads", "3"])).is_err(),
            "a program is required"
        );
        assert!(parse_launch(&os(&["--bogus"])).is_err());
    }

    #[test]
    fn a_run_sees_only_its_jail_and_the_system() {
        let s = Sandbox {
            bwrap: "/usr/bin/bwrap".into(),
            launcher: "/k/grader".into(),
            root: true,
        };
        let jail = Jail {
            read_only: vec!["/k/tree/lab".into(), "/k/target/debug/deps/t".into()],
            writable: vec!["/k/out/run-1".into()],
            cwd: "/k/tree/lab".into(),
        };
        let args: Vec<String> = s
            .run_args(
                &jail,
                100,
                Some(RUN_UID_BASE + 7),
                Path::new("/k/target/debug/deps/t"),
                &["--exact".into()],
            )
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let joined = args.join(" ");
        for needed in [
            "--unshare-pid",
            "--unshare-net",
            "--die-with-parent",
            "--new-session",
            "--perms 1777 --tmpfs /tmp",
            "--perms 0755 --dir /k/tree ",
            "--ro-bind /k/tree/lab /k/tree/lab",
            "--bind /k/out/run-1 /k/out/run-1",
            "--ro-bind /k/grader /run/distlab/launch",
            "--chdir /k/tree/lab",
            "-- /run/distlab/launch __sandbox-exec --max-threads 100 --user 200007 -- /k/target/debug/deps/t --exact",
        ] {
            assert!(joined.contains(needed), "missing {needed:?} in {joined}");
        }
        assert!(
            !joined.contains("--unshare-user"),
            "root's runs drop privileges in the launcher, not through a user namespace"
        );
        let tmp = joined.find("--tmpfs /tmp").unwrap_or(usize::MAX);
        let bind = joined.find("--bind /k/out").unwrap_or(0);
        assert!(
            tmp < bind,
            "the jail's folders are bound after /tmp's tmpfs"
        );
        let user = Sandbox { root: false, ..s };
        let joined: String = user
            .run_args(
                &jail,
                100,
                user.user_for(&[1, 2, 3, 4]),
                Path::new("/t"),
                &[],
            )
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned() + " ")
            .collect();
        assert!(
            joined.contains("--unshare-user --disable-userns"),
            "{joined}"
        );
        assert!(!joined.contains("--user "), "{joined}");
    }
}
