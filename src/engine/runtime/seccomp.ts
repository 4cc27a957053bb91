/**
 * Seccomp profile for the `runc` runtime class (gVisor filters the sentry itself and needs no
 * profile from us). Default-deny: only the syscalls below are allowed, everything else fails
 * with EPERM (so programs that probe a feature fall back instead of dying). The allow-list is
 * what Docker's default profile allows a container without CAP_SYS_ADMIN, minus io_uring
 * (a large, often-exploited kernel surface), ptrace and cross-process memory access, and
 * file-handle lookups.
 *
 * New namespaces are refused outright, so the kernel code reachable only from a fresh user
 * namespace (the root of many local privilege escalations) stays out of reach:
 * - `clone` is allowed only without any CLONE_NEW* flag; with one it fails with EPERM;
 * - `clone3` fails with ENOSYS (its flags live in memory, out of seccomp's sight), so libc
 *   falls back to `clone`, as under Docker;
 * - `unshare`, `setns` and the whole mount API are not on the list (EPERM).
 * Also left out: kernel keyrings, BPF, perf events, userfaultfd, kexec and modules, clock
 * and time changes, swap, quotas, reboot, NUMA policy, accounting and the kernel log.
 */

/** Syscalls every program needs, grouped by purpose; any a kernel or arch lacks is skipped by runc. */
const ALLOWED = [
  // files and directories
  'access', 'chdir', 'chmod', 'chown', 'chown32', 'close', 'close_range', 'copy_file_range', 'creat',
  'dup', 'dup2', 'dup3', 'faccessat', 'faccessat2', 'fadvise64', 'fadvise64_64', 'fallocate', 'fchdir',
  'fchmod', 'fchmodat', 'fchmodat2', 'fchown', 'fchown32', 'fchownat', 'fcntl', 'fcntl64', 'fdatasync',
  'flock', 'fstat', 'fstat64', 'fstatat64', 'fstatfs', 'fstatfs64', 'fsync', 'ftruncate', 'ftruncate64',
  'futimesat', 'getcwd', 'getdents', 'getdents64', 'lchown', 'lchown32', 'link', 'linkat', '_llseek',
  'lseek', 'lstat', 'lstat64', 'mkdir', 'mkdirat', 'mknod', 'mknodat', 'newfstatat', 'open', 'openat',
  'openat2', 'pread64', 'preadv', 'preadv2', 'pwrite64', 'pwritev', 'pwritev2', 'read', 'readahead',
  'readlink', 'readlinkat', 'readv', 'rename', 'renameat', 'renameat2', 'rmdir', 'sendfile', 'sendfile64',
  'splice', 'stat', 'stat64', 'statfs', 'statfs64', 'statx', 'symlink', 'symlinkat', 'sync',
  'sync_file_range', 'syncfs', 'tee', 'truncate', 'truncate64', 'umask', 'unlink', 'unlinkat', 'utime',
  'utimensat', 'utimensat_time64', 'utimes', 'vmsplice', 'write', 'writev',
  // extended attributes
  'fgetxattr', 'flistxattr', 'fremovexattr', 'fsetxattr', 'getxattr', 'lgetxattr', 'listxattr',
  'llistxattr', 'lremovexattr', 'lsetxattr', 'removexattr', 'setxattr',
  // file events and asynchronous I/O
  'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_pwait', 'epoll_pwait2', 'epoll_wait',
  'epoll_wait_old', 'eventfd', 'eventfd2', 'fanotify_mark', 'inotify_add_watch', 'inotify_init',
  'inotify_init1', 'inotify_rm_watch', 'io_cancel', 'io_destroy', 'io_getevents', 'io_pgetevents',
  'io_pgetevents_time64', 'io_setup', 'io_submit', 'poll', 'ppoll', 'ppoll_time64', 'pselect6',
  'pselect6_time64', 'select', '_newselect', 'signalfd', 'signalfd4', 'timerfd_create', 'timerfd_gettime',
  'timerfd_gettime64', 'timerfd_settime', 'timerfd_settime64', 'ioctl', 'pipe', 'pipe2',
  // memory
  'brk', 'madvise', 'membarrier', 'memfd_create', 'memfd_secret', 'mincore', 'mlock', 'mlock2', 'mlockall',
  'mmap', 'mmap2', 'mprotect', 'mremap', 'msync', 'munlock', 'munlockall', 'munmap', 'pkey_alloc',
  'pkey_free', 'pkey_mprotect', 'remap_file_pages', 'map_shadow_stack',
  // processes, threads and signals (clone and clone3: see CLONE_RULES)
  'execve', 'execveat', 'exit', 'exit_group', 'fork', 'vfork', 'wait4', 'waitid', 'waitpid', 'kill', 'tkill',
  'tgkill', 'pidfd_open', 'pidfd_send_signal', 'process_mrelease', 'pause', 'restart_syscall',
  'rt_sigaction', 'rt_sigpending', 'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn', 'rt_sigsuspend',
  'rt_sigtimedwait', 'rt_sigtimedwait_time64', 'rt_tgsigqueueinfo', 'sigaltstack', 'sigprocmask', 'sigreturn',
  'futex', 'futex_time64', 'futex_waitv', 'futex_wait', 'futex_wake', 'futex_requeue', 'get_robust_list',
  'set_robust_list', 'set_tid_address', 'rseq', 'get_thread_area', 'set_thread_area', 'arch_prctl',
  'modify_ldt', 'prctl', 'seccomp', 'capget', 'capset',
  // identity, sessions and limits
  'getegid', 'getegid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getgroups', 'getgroups32',
  'getpgid', 'getpgrp', 'getpid', 'getppid', 'getresgid', 'getresgid32', 'getresuid', 'getresuid32',
  'getsid', 'gettid', 'getuid', 'getuid32', 'setfsgid', 'setfsgid32', 'setfsuid', 'setfsuid32', 'setgid',
  'setgid32', 'setgroups', 'setgroups32', 'setpgid', 'setregid', 'setregid32', 'setresgid', 'setresgid32',
  'setresuid', 'setresuid32', 'setreuid', 'setreuid32', 'setsid', 'setuid', 'setuid32', 'getrlimit',
  'ugetrlimit', 'setrlimit', 'prlimit64', 'getrusage', 'getpriority', 'setpriority', 'ioprio_get',
  'ioprio_set', 'landlock_add_rule', 'landlock_create_ruleset', 'landlock_restrict_self',
  // scheduling
  'sched_getaffinity', 'sched_getattr', 'sched_getparam', 'sched_get_priority_max', 'sched_get_priority_min',
  'sched_getscheduler', 'sched_rr_get_interval', 'sched_rr_get_interval_time64', 'sched_setaffinity',
  'sched_setattr', 'sched_setparam', 'sched_setscheduler', 'sched_yield', 'getcpu',
  // time (reading it, and timers)
  'alarm', 'clock_getres', 'clock_getres_time64', 'clock_gettime', 'clock_gettime64', 'clock_nanosleep',
  'clock_nanosleep_time64', 'getitimer', 'gettimeofday', 'nanosleep', 'setitimer', 'time', 'times',
  'timer_create', 'timer_delete', 'timer_getoverrun', 'timer_gettime', 'timer_gettime64', 'timer_settime',
  'timer_settime64', 'adjtimex', 'clock_adjtime', 'clock_adjtime64',
  // sockets (creating one: see SOCKET_RULES)
  'accept', 'accept4', 'bind', 'connect', 'getpeername', 'getsockname', 'getsockopt', 'listen', 'recv',
  'recvfrom', 'recvmmsg', 'recvmmsg_time64', 'recvmsg', 'send', 'sendmmsg', 'sendmsg', 'sendto',
  'setsockopt', 'shutdown', 'socketcall', 'socketpair',
  // System V and POSIX IPC (the sandbox's own IPC namespace)
  'ipc', 'msgctl', 'msgget', 'msgrcv', 'msgsnd', 'semctl', 'semget', 'semop', 'semtimedop',
  'semtimedop_time64', 'shmat', 'shmctl', 'shmdt', 'shmget', 'mq_getsetattr', 'mq_notify', 'mq_open',
  'mq_timedreceive', 'mq_timedreceive_time64', 'mq_timedsend', 'mq_timedsend_time64', 'mq_unlink',
  // system information; chroot (CAP_SYS_CHROOT is in the capability set)
  'getrandom', 'sysinfo', 'uname', 'chroot',
];

/**
 * CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET. (CLONE_NEWTIME exists
 * only for clone3; in clone its bit belongs to the exit signal.)
 */
export const CLONE_NAMESPACE_FLAGS = 0x7e020000;
const AF_VSOCK = 40;
const EPERM = 1;
const ENOSYS = 38;

/** clone only without namespace flags (flags are argument 0 on x86 and arm; s390 is not supported). */
const CLONE_RULES = [
  { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
  { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
];

/** Sockets of every family but vsock (a channel to the hypervisor when the host is a VM). */
const SOCKET_RULES = [
  { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_NE' }] },
];

/**
 * personality(2) only to query or to set the values programs use (Linux, READ_IMPLIES_EXEC
 * off, ADDR_NO_RANDOMIZE for debuggers and reproducible builds, the 32-bit personality).
 */
const PERSONALITY_RULES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff].map((value) => ({
  names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }],
}));

export function runcSeccompProfile(): Record<string, unknown> {
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
    syscalls: [
      { names: ALLOWED, action: 'SCMP_ACT_ALLOW' },
      ...CLONE_RULES,
      ...SOCKET_RULES,
      ...PERSONALITY_RULES,
    ],
  };
}
