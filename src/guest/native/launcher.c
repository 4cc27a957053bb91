/*
 * agentbox-launcher: the guest's process factory. The guest (a Node process with a large address
 * space) starts it once; it forks small launchers ahead of time, and each launcher becomes one
 * program the guest is asked to run. Forking the guest costs ~8 ms under gVisor and blocks its
 * event loop; a fork of this small process costs ~2-3 ms and happens beside the guest, so
 * commands run back to back never wait for a fork (src/guest/process/launcher-pool.ts).
 *
 * Factory protocol (the guest holds the other ends):
 *   fd 0  from the guest: one '+' per launcher wanted. EOF = the guest is gone; the factory exits.
 *   fd 1  to the guest, one line per event:
 *           "ready <pid> <stdin> <stdout> <stderr> <status>"
 *               a launcher waits. The four numbers are its descriptors that the guest opens
 *               through /proc/<pid>/fd/<n>: the write end of the program's stdin pipe, the read
 *               ends of its stdout and stderr pipes, and the read end of its status pipe.
 *           "exit <pid> <code> <signal>"  a launcher, or the program it became, ended (-1 / 0 when n/a)
 *           "error <errno> <message>"     a launcher could not be forked (EAGAIN at the pids limit)
 *
 * Launcher protocol: the request comes first on the program's stdin pipe, as a 4-byte
 * little-endian length and that many bytes of NUL-terminated fields:
 *   uid, gid, cwd, stdin ("1" keep / "0" /dev/null), argc, argv..., envc, env...
 * What follows the request on that pipe is the program's stdin. The status pipe is
 * close-on-exec: EOF means the exec succeeded; otherwise it carries one line "<errno> <message>"
 * and the launcher exits with 127. EOF before a request retires an unused launcher.
 *
 * The program's stdin, stdout and stderr are pipes, as with a plain fork and exec, so
 * `echo x > /dev/stderr` works (it cannot on a socket).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

/* Larger than any argv and environment execve accepts. */
#define MAX_REQUEST (16u << 20)

static int status_fd = -1;

static void fail(int err, const char *what) {
  dprintf(status_fd, "%d %s: %s\n", err, what, strerror(err));
  _exit(127);
}

/* Reads exactly n bytes; 0 on EOF before the first byte, -1 on EOF or error after it. */
static int read_full(int fd, void *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, (char *)buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return got == 0 && r == 0 ? 0 : -1;
    got += (size_t)r;
  }
  return 1;
}

/* The launcher: waits for its request on fd 0, then becomes the program. Never returns. */
static void launcher(int status_write) {
  status_fd = status_write;
  uint8_t head[4];
  int r = read_full(0, head, sizeof head);
  if (r == 0) _exit(0); /* retired unused */
  if (r < 0) fail(EIO, "read request");
  uint32_t len = (uint32_t)head[0] | (uint32_t)head[1] << 8 | (uint32_t)head[2] << 16 | (uint32_t)head[3] << 24;
  if (len == 0 || len > MAX_REQUEST) fail(EINVAL, "request length");
  char *buf = malloc(len);
  if (!buf) fail(ENOMEM, "request");
  /* Exactly the request: the bytes after it are the program's stdin. */
  if (read_full(0, buf, len) != 1) fail(EIO, "read request");

  /* Split the request into its NUL-terminated fields. */
  size_t nfields = 0;
  for (size_t i = 0; i < len; i++) nfields += buf[i] == '\0';
  char **f = calloc(nfields + 1, sizeof(char *));
  if (!f) fail(ENOMEM, "request");
  size_t k = 0;
  for (size_t i = 0, start = 0; i < len; i++) if (buf[i] == '\0') { f[k++] = buf + start; start = i + 1; }
  if (k < 6) fail(EINVAL, "request");
  uid_t uid = (uid_t)strtoul(f[0], NULL, 10);
  gid_t gid = (gid_t)strtoul(f[1], NULL, 10);
  const char *cwd = f[2];
  int keep_stdin = f[3][0] == '1';
  size_t argc = strtoul(f[4], NULL, 10);
  if (argc == 0 || 5 + argc + 1 > k) fail(EINVAL, "request argv");
  char **argv = calloc(argc + 1, sizeof(char *));
  if (!argv) fail(ENOMEM, "request");
  for (size_t i = 0; i < argc; i++) argv[i] = f[5 + i];
  size_t envc = strtoul(f[5 + argc], NULL, 10);
  if (6 + argc + envc > k) fail(EINVAL, "request env");
  char **envp = calloc(envc + 1, sizeof(char *));
  if (!envp) fail(ENOMEM, "request");
  for (size_t i = 0; i < envc; i++) envp[i] = f[6 + argc + i];

  /* Own session and process group: signals reach the whole tree, never the guest. */
  setsid();
  if (!keep_stdin) {
    int null = open("/dev/null", O_RDONLY);
    if (null < 0) fail(errno, "open /dev/null");
    dup2(null, 0);
    close(null);
  }
  if (getuid() == 0) {
    /* The pipes become the user's, as if the program had made them: it can reopen them
     * (/dev/stdout is /proc/self/fd/1), and opening a pipe checks its owner and mode 0600. */
    for (int fd = keep_stdin ? 0 : 1; fd <= 2; fd++) if (fchown(fd, uid, gid) != 0) fail(errno, "fchown");
    if (setgroups(0, NULL) != 0) fail(errno, "setgroups");
    if (setgid(gid) != 0) fail(errno, "setgid");
    if (setuid(uid) != 0) fail(errno, "setuid");
  }
  if (chdir(cwd) != 0) fail(errno, "chdir");
  /* PATH lookup in the program's own environment, as a shell would. */
  environ = envp;
  execvp(argv[0], argv);
  fail(errno, argv[0]);
}

/* Forks one launcher and tells the guest where its pipes are. */
static void spawn_launcher(int sigfd, const sigset_t *old_mask) {
  int in[2], out[2], err[2], st[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) || pipe2(st, O_CLOEXEC)) {
    int e = errno;
    dprintf(1, "error %d pipe: %s\n", e, strerror(e));
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    /* The program's ends become 0-2 (dup2 clears close-on-exec); the guest's ends stay at the
     * numbers announced below until the exec closes them. */
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    close(sigfd);
    sigprocmask(SIG_SETMASK, old_mask, NULL);
    launcher(st[1]);
  }
  int fork_errno = errno;
  close(in[0]);
  close(out[1]);
  close(err[1]);
  close(st[1]);
  /* The child holds these at the same numbers; the guest opens them there. */
  if (pid > 0) dprintf(1, "ready %d %d %d %d %d\n", (int)pid, in[1], out[0], err[0], st[0]);
  else dprintf(1, "error %d fork: %s\n", fork_errno, strerror(fork_errno));
  close(in[1]);
  close(out[0]);
  close(err[0]);
  close(st[0]);
}

static void report_exits(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    if (WIFEXITED(status)) dprintf(1, "exit %d %d 0\n", (int)pid, WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) dprintf(1, "exit %d -1 %d\n", (int)pid, WTERMSIG(status));
  }
}

int main(void) {
  /* 0-2 must be taken so that the pipes never land there. */
  for (int fd = 0; fd < 3; fd++) if (fcntl(fd, F_GETFD) < 0) open("/dev/null", O_RDWR);
  sigset_t chld, old_mask;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &old_mask);
  int sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd < 0) { perror("agentbox-launcher: signalfd"); return 1; }

  struct pollfd fds[2] = { { .fd = 0, .events = POLLIN }, { .fd = sigfd, .events = POLLIN } };
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      perror("agentbox-launcher: poll");
      return 1;
    }
    if (fds[1].revents) {
      struct signalfd_siginfo info;
      while (read(sigfd, &info, sizeof info) > 0) {}
      report_exits();
    }
    if (fds[0].revents) {
      char cmds[64];
      ssize_t n = read(0, cmds, sizeof cmds);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return 0; /* the guest is gone */
      for (ssize_t i = 0; i < n; i++) if (cmds[i] == '+') spawn_launcher(sigfd, &old_mask);
    }
  }
}
