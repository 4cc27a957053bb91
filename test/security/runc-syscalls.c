/*
 * Tries the syscalls a runc sandbox must refuse and prints one line per attempt:
 * "<name> <errno>" (0 = it worked). Built static on the host by test/security/runc.test.ts
 * and run inside the sandbox as root. Every attempt is harmless when it succeeds: a child
 * made by clone exits at once, and nothing is loaded, mounted or kept.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static void report(const char *name, long ret) {
  printf("%s %d\n", name, ret < 0 ? errno : 0);
}

/* clone(2) used like fork: a child that exits at once. */
static void try_clone(const char *name, unsigned long flags) {
  long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid((pid_t)pid, NULL, 0);
  report(name, pid);
}

static void try_clone3(const char *name, unsigned long long flags) {
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = flags;
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid((pid_t)pid, NULL, 0);
  report(name, pid);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  try_clone("clone", 0);
  try_clone("clone_newuser", CLONE_NEWUSER);
  try_clone("clone_newns", CLONE_NEWNS);
  try_clone("clone_newnet", CLONE_NEWNET);
  try_clone3("clone3_newuser", CLONE_NEWUSER);
  report("unshare_newuser", syscall(SYS_unshare, CLONE_NEWUSER));
  report("unshare_newns", syscall(SYS_unshare, CLONE_NEWNS));
  int ns = open("/proc/self/ns/uts", O_RDONLY);
  report("setns", syscall(SYS_setns, ns, 0));
  report("mount", syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL));
  report("fsopen", syscall(SYS_fsopen, "tmpfs", 0));
  report("open_tree", syscall(SYS_open_tree, AT_FDCWD, "/tmp", 1 /* OPEN_TREE_CLONE */));
  report("keyctl", syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, NULL));
  report("add_key", syscall(SYS_add_key, "user", "probe", "x", 1, -3 /* KEY_SPEC_SESSION_KEYRING */));
  report("bpf", syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, NULL, 0));
  report("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
  report("userfaultfd", syscall(SYS_userfaultfd, 0));
  report("io_uring_setup", syscall(SYS_io_uring_setup, 1, NULL));
  report("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
  report("init_module", syscall(SYS_init_module, NULL, 0, ""));
  report("ptrace", syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0));
  report("vsock", syscall(SYS_socket, AF_VSOCK, SOCK_STREAM, 0));
  return 0;
}
