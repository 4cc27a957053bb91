//! Starts a program as a user, in its own session, on given stdio: the guest's one place that
//! makes processes (src/guest/native/launcher.c does this job for the TypeScript guest).
//!
//! The child is made with vfork semantics, clone(CLONE_VM | CLONE_VFORK): it runs on the guest's
//! memory, on a small stack of its own, until its execve, so a start builds one address space
//! (the program's). A fork would first copy the guest's page tables, which gVisor's sentry does
//! slowly (BENCHMARKS.md: ~8 ms for the Node guest), and whose cost grows with the guest's
//! memory. std's Command uses posix_spawn (which does the same clone) only when no uid, gid or
//! pre_exec is asked for, and every start here asks for them, so it would fork; glibc's
//! posix_spawn has no way to set ids at all. Measured outside gVisor (a release build, start and
//! wait of /bin/true): 0.60 ms against std's fork path's 0.79 ms with 4 MiB of the parent's
//! memory touched, 0.95 ms against 7.3 ms with 200 MiB.
//!
//! Between clone and execve the child shares the guest's memory while the guest's thread waits:
//! it makes only system calls, allocates nothing, and writes nothing but the error fields of its
//! `Child`. Everything it needs (C strings, pointer arrays, the PATH candidates) is built before.
use std::collections::BTreeMap;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicI32, AtomicU8, Ordering};

use crate::error::{Code, GuestError, GuestResult};

/// The child's stack until its execve; it calls only thin libc wrappers.
const CHILD_STACK: usize = 64 * 1024;

/// glibc's PATH for execvp when the environment has none (confstr _CS_PATH).
const DEFAULT_EXEC_PATH: &str = "/bin:/usr/bin";

/// execvp runs a file the kernel cannot execute (a script without `#!`) with this shell.
const SCRIPT_SHELL: &CStr = c"/bin/sh";

pub struct Program<'a> {
    pub cmd: &'a str,
    pub args: &'a [String],
    pub env: &'a BTreeMap<String, String>,
    pub cwd: &'a str,
    pub uid: u32,
    pub gid: u32,
}

/// The descriptors that become the child's 0, 1 and 2.
pub enum ChildStdio<'a> {
    /// stdin None reads /dev/null.
    Pipes { stdin: Option<&'a OwnedFd>, stdout: &'a OwnedFd, stderr: &'a OwnedFd },
    /// A PTY's slave, which also becomes the child's controlling terminal.
    Terminal(&'a OwnedFd),
}

/// The step of the child's setup that failed, named in the start error as launcher.c names it.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Step {
    Setsid = 1,
    Terminal,
    DevNull,
    Dup2,
    Setgroups,
    Setgid,
    Setuid,
    Chdir,
    Exec,
}

impl Step {
    fn from_u8(n: u8) -> Self {
        [Step::Setsid, Step::Terminal, Step::DevNull, Step::Dup2, Step::Setgroups, Step::Setgid, Step::Setuid, Step::Chdir]
            .into_iter()
            .find(|s| *s as u8 == n)
            .unwrap_or(Step::Exec)
    }

    fn name(self, cmd: &str) -> &str {
        match self {
            Step::Setsid => "setsid",
            Step::Terminal => "ioctl TIOCSCTTY",
            Step::DevNull => "open /dev/null",
            Step::Dup2 => "dup2",
            Step::Setgroups => "setgroups",
            Step::Setgid => "setgid",
            Step::Setuid => "setuid",
            Step::Chdir => "chdir",
            Step::Exec => cmd,
        }
    }
}

/// The C strings of a start and the pointer arrays into them, built before the clone.
struct Exec {
    /// The files execve tries in turn: the PATH lookup of execvp, done ahead.
    paths: Vec<CString>,
    argv: Vec<*const c_char>,
    /// Per path, the argv that runs it as a script: /bin/sh, the path, then argv[1..].
    script_argvs: Vec<Vec<*const c_char>>,
    envp: Vec<*const c_char>,
    cwd: CString,
    /// Owns what argv and envp point at (a CString's bytes stay put when it moves).
    _strings: (Vec<CString>, Vec<CString>),
}

impl Exec {
    /// None when a string holds a NUL byte, which no C string can carry.
    fn new(p: &Program) -> Option<Self> {
        let args = std::iter::once(p.cmd)
            .chain(p.args.iter().map(String::as_str))
            .map(|a| CString::new(a).ok())
            .collect::<Option<Vec<_>>>()?;
        let env = p.env.iter().map(|(k, v)| CString::new(format!("{k}={v}")).ok()).collect::<Option<Vec<_>>>()?;
        // execvp looks the program up in the PATH of the environment it runs with, as a shell would.
        let search = p.env.get("PATH").map_or(DEFAULT_EXEC_PATH, String::as_str);
        let paths = exec_candidates(p.cmd, search).into_iter().map(|c| CString::new(c).ok()).collect::<Option<Vec<_>>>()?;
        let argv = null_terminated(args.iter().map(CString::as_c_str));
        let script_argvs = paths.iter().map(|path| null_terminated([SCRIPT_SHELL, path.as_c_str()].into_iter().chain(args[1..].iter().map(CString::as_c_str)))).collect();
        let envp = null_terminated(env.iter().map(CString::as_c_str));
        Some(Self { paths, argv, script_argvs, envp, cwd: CString::new(p.cwd).ok()?, _strings: (args, env) })
    }
}

/// A C array of the strings' pointers, ending in NULL.
fn null_terminated<'a>(strings: impl IntoIterator<Item = &'a CStr>) -> Vec<*const c_char> {
    strings.into_iter().map(CStr::as_ptr).chain(std::iter::once(null())).collect()
}

/// The files execvp would try for `cmd`: itself when it names a path, else each PATH entry's
/// (an empty entry is the working directory).
fn exec_candidates(cmd: &str, search: &str) -> Vec<String> {
    if cmd.contains('/') {
        return vec![cmd.to_string()];
    }
    search.split(':').map(|dir| if dir.is_empty() { cmd.to_string() } else { format!("{}/{cmd}", dir.trim_end_matches('/')) }).collect()
}

/// What the child is given, and where it leaves why it failed (the memory is shared).
struct Child<'a> {
    exec: &'a Exec,
    /// The descriptors for 0, 1, 2; -1 for stdin reads /dev/null.
    stdio: [RawFd; 3],
    terminal: bool,
    /// Only root can switch; a guest run as a user starts programs as itself (as launcher.c).
    switch_ids: bool,
    uid: u32,
    gid: u32,
    errno: AtomicI32,
    step: AtomicU8,
}

/// Starts the program; returns its pid once its execve succeeded. The child is a session
/// leader, so its pid is its process group's id.
pub fn spawn(program: &Program, stdio: ChildStdio) -> GuestResult<i32> {
    let exec = Exec::new(program).ok_or_else(|| {
        GuestError::new(Code::InvalidArgument, format!("cannot start '{}': an argument, the cwd or an env var holds a NUL byte", program.cmd))
    })?;
    // SAFETY: getuid has no preconditions.
    let switch_ids = unsafe { libc::getuid() } == 0;
    let (fds, terminal) = match stdio {
        ChildStdio::Pipes { stdin, stdout, stderr } => ([stdin.map_or(-1, |f| f.as_raw_fd()), stdout.as_raw_fd(), stderr.as_raw_fd()], false),
        ChildStdio::Terminal(slave) => ([slave.as_raw_fd(); 3], true),
    };
    if switch_ids {
        // The program's stdio become its user's, as if it had made them: it can reopen them
        // (/dev/stdout is /proc/self/fd/1, which checks the pipe's owner). A terminal keeps its
        // group (tty), as login gives one.
        let (owned, gid) = if terminal { (&fds[..1], libc::gid_t::MAX) } else { (&fds[..], program.gid) };
        for &fd in owned.iter().filter(|fd| **fd >= 0) {
            // SAFETY: fd is an open descriptor borrowed from the caller.
            if unsafe { libc::fchown(fd, program.uid, gid) } != 0 {
                return Err(start_error(program.cmd, errno(), "fchown"));
            }
        }
    }
    let child = Child {
        exec: &exec,
        stdio: fds,
        terminal,
        switch_ids,
        uid: program.uid,
        gid: program.gid,
        errno: AtomicI32::new(0),
        step: AtomicU8::new(0),
    };
    let mut stack = vec![0u8; CHILD_STACK];
    // SAFETY: one past the end of the stack's allocation; the stack grows down from there.
    let top = unsafe { stack.as_mut_ptr().add(CHILD_STACK) };
    let top = (top as usize & !15) as *mut c_void;
    // SAFETY: the child runs child_main on its own stack with a pointer to `child`, which
    // outlives it (CLONE_VFORK suspends this thread until the child's execve or exit).
    // Every signal is blocked across the clone, so no handler of the guest runs in the child
    // on the guest's memory before it has reset them all.
    let (pid, clone_errno) = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        let pid = libc::clone(child_main, top, libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD, &child as *const Child as *mut c_void);
        let clone_errno = errno();
        // The child's setuid made the memory it shared with the guest non-dumpable, which
        // would leave the guest's /proc/self files to root alone: set it back.
        if switch_ids {
            libc::prctl(libc::PR_SET_DUMPABLE, 1);
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, null_mut());
        (pid, clone_errno)
    };
    if pid < 0 {
        return Err(start_error(program.cmd, clone_errno, "clone"));
    }
    let failed = child.errno.load(Ordering::Relaxed);
    if failed != 0 {
        // It has exited: reaped here, so nothing else ever sees this pid.
        // SAFETY: pid is this process's child.
        unsafe { libc::waitpid(pid, null_mut(), 0) };
        let step = Step::from_u8(child.step.load(Ordering::Relaxed));
        return Err(start_error(program.cmd, failed, step.name(program.cmd)));
    }
    Ok(pid)
}

/// Worded as the TypeScript guest words a failure its process factory reports
/// ("cannot start 'x': x: No such file or directory"). EAGAIN is the sandbox's process limit
/// (a fork bomb's symptom), and the others a guest out of descriptors or memory: none is a
/// wrong request.
pub fn start_error(cmd: &str, errno: i32, what: &str) -> GuestError {
    let exhausted = matches!(errno, libc::EAGAIN | libc::EMFILE | libc::ENFILE | libc::ENOMEM);
    let code = if exhausted { Code::ResourceExhausted } else { Code::InvalidArgument };
    GuestError::new(code, format!("cannot start '{cmd}': {what}: {}", strerror(errno)))
}

/// The C library's text for an errno, without std's " (os error N)".
fn strerror(errno: i32) -> String {
    let mut buf = [0 as c_char; 256];
    // SAFETY: strerror_r (XSI) writes a NUL-terminated string of at most buf.len() bytes.
    unsafe {
        libc::strerror_r(errno, buf.as_mut_ptr(), buf.len());
        CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
    }
}

fn errno() -> i32 {
    // SAFETY: the calling thread's errno, always valid to read.
    unsafe { *libc::__errno_location() }
}

extern "C" fn child_main(arg: *mut c_void) -> c_int {
    // SAFETY: `spawn` passes a pointer to a live `Child` and waits until this child is gone.
    let child = unsafe { &*(arg as *const Child) };
    // SAFETY: the child's setup below makes system calls only, on data built before the clone.
    unsafe { set_up_and_exec(child) }
}

/// Records why the child failed where `spawn` reads it, and ends the child.
unsafe fn fail(child: &Child, step: Step) -> ! {
    child.errno.store(errno(), Ordering::Relaxed);
    child.step.store(step as u8, Ordering::Relaxed);
    // SAFETY: _exit ends the child without running the guest's atexit handlers.
    unsafe { libc::_exit(127) }
}

/// The child's side. Credentials are set with raw system calls: glibc's wrappers would signal
/// the guest's threads to change theirs too (its set*id broadcast), on memory they share.
unsafe fn set_up_and_exec(c: &Child) -> ! {
    unsafe {
        // The dispositions and the empty mask libuv gives a child: an ignored signal (Rust's
        // SIGPIPE) stays ignored across execve otherwise, and programs expect the defaults.
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        for signal in 1..65 {
            libc::sigaction(signal, &default, null_mut());
        }
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, null_mut());
        // Its own session and process group: signals reach the program's whole tree, and the
        // guest's own terminal signals never do.
        if libc::setsid() < 0 {
            fail(c, Step::Setsid);
        }
        if c.terminal {
            if libc::ioctl(c.stdio[0], libc::TIOCSCTTY, 0) < 0 {
                fail(c, Step::Terminal);
            }
        } else if c.stdio[0] < 0 {
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
            if null < 0 {
                fail(c, Step::DevNull);
            }
            if null != 0 {
                if libc::dup2(null, 0) < 0 {
                    fail(c, Step::Dup2);
                }
                libc::close(null);
            }
        }
        // The descriptors are all above 2 (fd.rs), so no dup2 here overwrites a later one's source.
        for (target, fd) in c.stdio.iter().enumerate() {
            if *fd >= 0 && libc::dup2(*fd, target as c_int) < 0 {
                fail(c, Step::Dup2);
            }
        }
        // Before the ids change, as libuv and node-pty (the TypeScript guest's spawners) do: a
        // cwd only root may enter still works for a program of another user.
        if libc::chdir(c.exec.cwd.as_ptr()) != 0 {
            fail(c, Step::Chdir);
        }
        if c.switch_ids {
            // Supplementary groups dropped: a program of `user` must not keep root's group 0.
            if libc::syscall(libc::SYS_setgroups, 0, null::<libc::gid_t>()) != 0 {
                fail(c, Step::Setgroups);
            }
            if libc::syscall(libc::SYS_setgid, c.gid) != 0 {
                fail(c, Step::Setgid);
            }
            if libc::syscall(libc::SYS_setuid, c.uid) != 0 {
                fail(c, Step::Setuid);
            }
        }
        exec(c)
    }
}

/// execvp's search over the candidates built ahead (glibc's __execvpe): a file the kernel
/// cannot run is run by /bin/sh; EACCES is remembered and reported if nothing else runs.
unsafe fn exec(c: &Child) -> ! {
    unsafe {
        let e = c.exec;
        let mut denied = false;
        for (path, script_argv) in e.paths.iter().zip(&e.script_argvs) {
            libc::execve(path.as_ptr(), e.argv.as_ptr(), e.envp.as_ptr());
            if errno() == libc::ENOEXEC {
                libc::execve(SCRIPT_SHELL.as_ptr(), script_argv.as_ptr(), e.envp.as_ptr());
            }
            match errno() {
                libc::EACCES => denied = true,
                libc::ENOENT | libc::ESTALE | libc::ENOTDIR | libc::ENODEV | libc::ETIMEDOUT => {}
                _ => fail(c, Step::Exec),
            }
        }
        if denied {
            *libc::__errno_location() = libc::EACCES;
        }
        fail(c, Step::Exec)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::process::end::Exit;
    use crate::process::fd::pipe;

    /// Runs `cmd` on pipes in `cwd` and returns its stdout and how it ended.
    fn run(cmd: &str, args: &[&str], cwd: &str) -> GuestResult<(String, Exit)> {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let env = BTreeMap::from([("PATH".to_string(), "/usr/bin:/bin".to_string()), ("GREETING".to_string(), "hi".to_string())]);
        // SAFETY: getuid and getgid have no preconditions.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let program = Program { cmd, args: &args, env: &env, cwd, uid, gid };
        let ((out_r, out_w), (_err_r, err_w)) = (pipe().unwrap(), pipe().unwrap());
        let pid = spawn(&program, ChildStdio::Pipes { stdin: None, stdout: &out_w, stderr: &err_w })?;
        drop((out_w, err_w));
        let mut out = String::new();
        std::fs::File::from(out_r).read_to_string(&mut out).unwrap();
        let mut status = 0;
        // SAFETY: pid is this test's child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        Ok((out, Exit::from_wait_status(status)))
    }

    #[test]
    fn runs_a_program_from_path_with_its_env_and_cwd() {
        let (out, exit) = run("sh", &["-c", "echo \"$GREETING $(pwd)\"; read x; exit 3"], "/tmp").unwrap();
        assert_eq!((out.as_str(), exit), ("hi /tmp\n", Exit::Code(3)));
    }

    #[test]
    fn runs_a_script_without_an_interpreter_line_with_sh() {
        let dir = crate::test_dir::TestDir::new("spawn");
        let script = dir.join("script");
        std::fs::write(&script, "echo from-script \"$1\"\n").unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let ran = run(script.to_str().unwrap(), &["arg"], "/");
        assert_eq!(ran.unwrap(), ("from-script arg\n".to_string(), Exit::Code(0)));
    }

    #[test]
    fn failures_name_the_step() {
        let e = run("no-such-program", &[], "/").unwrap_err();
        assert_eq!(e.message, "cannot start 'no-such-program': no-such-program: No such file or directory");
        let e = run("sh", &[], "/no/such/dir").unwrap_err();
        assert_eq!(e.message, "cannot start 'sh': chdir: No such file or directory");
        assert_eq!(run("/etc", &[], "/").unwrap_err().message, "cannot start '/etc': /etc: Permission denied");
    }

    #[test]
    fn candidates_follow_execvp() {
        assert_eq!(exec_candidates("/bin/sh", "/usr/bin"), ["/bin/sh"]);
        assert_eq!(exec_candidates("./x", "/usr/bin"), ["./x"]);
        assert_eq!(exec_candidates("ls", "/usr/bin/:/bin::"), ["/usr/bin/ls", "/bin/ls", "ls", "ls"]);
    }

    #[test]
    fn errors_read_like_the_process_factory() {
        let e = start_error("/no/such", libc::ENOENT, "/no/such");
        assert_eq!((e.code, e.message.as_str()), (Code::InvalidArgument, "cannot start '/no/such': /no/such: No such file or directory"));
        assert_eq!(start_error("x", libc::EAGAIN, "clone").code, Code::ResourceExhausted);
    }
}
