/*
 * agentbox-launcher: the guest's process factory. The guest (a Node process with a large address
 * space) starts it once, and it starts every program the guest is asked to run. Forking the
 * guest costs ~8 ms under gVisor and blocks its event loop. This small process starts a program
 * with vfork semantics instead (clone with CLONE_VM | CLONE_VFORK): the child borrows the
 * factory's memory until its execve, so a start builds one address space (the program's) where
 * fork + exec builds two, and no spare process waits between commands
 * (src/guest/process/process-factory.ts, BENCHMARKS.md).
 *
 * Protocol (the guest holds the other ends). Every request on fd 0 is a 4-byte little-endian
 * length and that many bytes of NUL-terminated fields, the first naming the request:
 *   "slot"   make pipes for a later program (its stdin, stdout and stderr)
 *   "run", slot, uid, gid, cwd, stdin ("1" keep / "0" /dev/null), argc, argv..., envc, env...
 *            start a program on the pipes of a slot; the slot is used up either way
 *   "drop", slot   close a slot's pipes (the guest could not open its ends)
 *   "open", id, uid, gid, path, n, key, value, ... ("-" for n: leave the metadata alone)
 *            as the user (uid, gid): create the parents of path, open it for writing
 *            (created, truncated) and replace its user.e2b.* metadata with the n pairs
 *   "close", fd    close a file that "open" opened, once the guest has opened it too
 * EOF on fd 0: the guest is gone, and the factory exits.
 * fd 1 carries one line per event:
 *   "slot <id> <stdin> <stdout> <stderr>"   the guest's ends of a slot's pipes (the write end of
 *        stdin, the read ends of stdout and stderr), which it opens through
 *        /proc/<factory>/fd/<n> before it asks to run on that slot
 *   "started <slot> <pid>"                  the program's execve succeeded
 *   "failed <slot> <errno> <message>"       it could not start; nothing of it is left
 *   "exit <pid> <code> <signal>"            a program ended (-1 / 0 when n/a)
 *   "error <errno> <message>"               a slot could not be made (EMFILE, say)
 *   "file <id> <fd> <kept>"                 "open" succeeded: the guest opens /proc/<factory>/fd/<fd>;
 *        kept is 1 when the metadata was written, 0 when the file system keeps none (or n was "-")
 *   "file-failed <id> <errno> <message>"    "open" failed; nothing of it is left open
 *
 * Files are opened here for the guest because the guest's own switch to a user's ids is slow:
 * glibc applies a set*id call to every thread of a process, and the guest (Node) has eleven,
 * 1-2 ms a call under gVisor. This process has one thread and switches with raw system calls.
 *
 * The program's stdin, stdout and stderr are pipes, as with a plain fork and exec, so
 * `echo x > /dev/stderr` works (it cannot on a socket). They are handed to the program's user.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Larger than any argv and environment execve accepts. */
#define MAX_REQUEST (16u << 20)
/* The child's stack until its execve: execvp's PATH buffer and its script fallback's argv copy. */
#define CHILD_STACK (8u << 20)

struct slot {
  long id;
  int child[3];  /* the program's ends: stdin read, stdout write, stderr write */
  int guest[3];  /* the guest's ends, closed here once the guest has opened them */
  struct slot *next;
};

static struct slot *slots;
static long next_slot_id = 1;
static char *child_stack;

/* What the child of a start is given, and where it leaves why its execve failed. */
struct start {
  const struct slot *slot;
  uid_t uid;
  gid_t gid;
  const char *cwd;
  int keep_stdin;
  char **argv;
  const sigset_t *mask;
  int err;
  const char *what;
};

static void close_all(int *fds, int n) {
  for (int i = 0; i < n; i++) if (fds[i] >= 0) close(fds[i]);
}

static void make_slot(void) {
  int p[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
  struct slot *s = malloc(sizeof *s);
  if (!s || pipe2(p[0], O_CLOEXEC) || pipe2(p[1], O_CLOEXEC) || pipe2(p[2], O_CLOEXEC)) {
    int e = s ? errno : ENOMEM;
    for (int i = 0; i < 3; i++) close_all(p[i], 2);
    free(s);
    dprintf(1, "error %d pipe: %s\n", e, strerror(e));
    return;
  }
  *s = (struct slot){ .id = next_slot_id++, .child = { p[0][0], p[1][1], p[2][1] }, .guest = { p[0][1], p[1][0], p[2][0] }, .next = slots };
  slots = s;
  dprintf(1, "slot %ld %d %d %d\n", s->id, s->guest[0], s->guest[1], s->guest[2]);
}

static struct slot *take_slot(long id) {
  for (struct slot **at = &slots; *at; at = &(*at)->next) {
    if ((*at)->id != id) continue;
    struct slot *s = *at;
    *at = s->next;
    return s;
  }
  return NULL;
}

static void drop(long id) {
  struct slot *s = take_slot(id);
  if (!s) return;
  close_all(s->guest, 3);
  close_all(s->child, 3);
  free(s);
}

/* Records why the start failed for the factory (the memory is shared) and ends the child. */
static _Noreturn void child_fail(struct start *a, const char *what) {
  a->err = errno;
  a->what = what;
  _exit(127);
}

/*
 * The child, on the factory's memory and its own stack and descriptor table: only system calls
 * here, and no write to memory but the `err` and `what` of its `struct start`. Credentials are
 * set with raw system calls: glibc's wrappers would signal the factory's threads to change theirs.
 */
static int child_main(void *arg) {
  struct start *a = arg;
  const struct slot *s = a->slot;
  sigprocmask(SIG_SETMASK, a->mask, NULL);
  /* Own session and process group: signals reach the whole tree, never the guest. */
  setsid();
  if (a->keep_stdin) {
    if (dup2(s->child[0], 0) < 0) child_fail(a, "dup2");
  } else {
    int null = open("/dev/null", O_RDONLY);
    if (null < 0) child_fail(a, "open /dev/null");
    if (dup2(null, 0) < 0) child_fail(a, "dup2");
    close(null);
  }
  if (dup2(s->child[1], 1) < 0 || dup2(s->child[2], 2) < 0) child_fail(a, "dup2");
  if (getuid() == 0) {
    if (syscall(SYS_setgroups, 0, NULL) != 0) child_fail(a, "setgroups");
    if (syscall(SYS_setgid, a->gid) != 0) child_fail(a, "setgid");
    if (syscall(SYS_setuid, a->uid) != 0) child_fail(a, "setuid");
  }
  if (chdir(a->cwd) != 0) child_fail(a, "chdir");
  /* The factory pointed `environ` at the request's environment: PATH is looked up there, as a shell would. */
  execvp(a->argv[0], a->argv);
  child_fail(a, a->argv[0]);
}

/* Splits a request into its NUL-terminated fields; the array is malloc'd, NULL-terminated. */
static char **fields_of(char *buf, size_t len, size_t *count) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++) n += buf[i] == '\0';
  char **f = calloc(n + 1, sizeof(char *));
  if (!f) return NULL;
  size_t k = 0;
  for (size_t i = 0, from = 0; i < len; i++) if (buf[i] == '\0') { f[k++] = buf + from; from = i + 1; }
  *count = k;
  return f;
}

/* Starts the program of a well-formed "run" request on the pipes of `s`; reports either way. */
static void start_on(const struct slot *s, long id, char **f, size_t argc, size_t envc, const sigset_t *mask) {
  uid_t uid = (uid_t)strtoul(f[2], NULL, 10);
  gid_t gid = (gid_t)strtoul(f[3], NULL, 10);
  /* The pipes become the user's, as if the program had made them: it can reopen them
   * (/dev/stdout is /proc/self/fd/1), and opening a pipe checks its owner and mode 0600. */
  if (getuid() == 0) {
    for (int i = 0; i < 3; i++) {
      if (fchown(s->child[i], uid, gid) != 0) {
        int e = errno;
        dprintf(1, "failed %ld %d fchown: %s\n", id, e, strerror(e));
        return;
      }
    }
  }
  char **argv = f + 7;
  argv[argc] = NULL; /* was the envc field after argv: execvp wants a NULL-terminated argv */
  char **envp = calloc(envc + 1, sizeof(char *));
  if (!envp) { dprintf(1, "failed %ld %d request: out of memory\n", id, ENOMEM); return; }
  memcpy(envp, f + 8 + argc, envc * sizeof(char *));
  /* Passed to clone by address: the child writes err and what there. */
  struct start a = { .slot = s, .uid = uid, .gid = gid, .cwd = f[4], .keep_stdin = f[5][0] == '1', .argv = argv, .mask = mask };
  char **own_environ = environ;
  environ = envp;
  /* Returns once the child has exec'd or exited: the factory is suspended until then. */
  pid_t pid = clone(child_main, child_stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
  int clone_err = errno;
  environ = own_environ;
  /* The child's setuid made the memory it shared with the factory non-dumpable, which closes
   * the factory's /proc/<pid>/fd to the guest (it has no CAP_SYS_PTRACE): set it back. */
  prctl(PR_SET_DUMPABLE, 1);
  free(envp);
  if (pid < 0) {
    dprintf(1, "failed %ld %d clone: %s\n", id, clone_err, strerror(clone_err));
  } else if (a.err) {
    waitpid(pid, NULL, 0); /* it has exited: reaped here, so no "exit" line names it */
    dprintf(1, "failed %ld %d %s: %s\n", id, a.err, a.what, strerror(a.err));
  } else {
    dprintf(1, "started %ld %d\n", id, (int)pid);
  }
}

static void run(char **f, size_t k, const sigset_t *mask) {
  long id = k > 1 ? strtol(f[1], NULL, 10) : 0;
  struct slot *s = take_slot(id);
  if (!s) { dprintf(1, "failed %ld %d no such slot\n", id, EINVAL); return; }
  /* The guest holds its ends now; the program sees EOF on stdin once the guest closes its end. */
  close_all(s->guest, 3);
  size_t argc = k > 6 ? strtoul(f[6], NULL, 10) : 0;
  size_t envc = argc > 0 && 7 + argc < k ? strtoul(f[7 + argc], NULL, 10) : 0;
  if (argc == 0 || 8 + argc + envc > k) dprintf(1, "failed %ld %d malformed request\n", id, EINVAL);
  else start_on(s, id, f, argc, envc, mask);
  close_all(s->child, 3);
  free(s);
}

/* Files "open" opened and the guest has not closed yet: only these may be closed on request. */
#define MAX_OPEN_FILES 256
static int open_files[MAX_OPEN_FILES];
static size_t open_file_count;

#define METADATA_PREFIX "user.e2b."

/* Switches this thread's effective ids; a single-threaded process has no others to tell. */
static int switch_ids(uid_t uid, gid_t gid, int to_user) {
  if (to_user) {
    gid_t groups[1] = { gid };
    if (syscall(SYS_setgroups, 1, groups) != 0 || syscall(SYS_setresgid, -1, gid, -1) != 0 || syscall(SYS_setresuid, -1, uid, -1) != 0) return -1;
    return 0;
  }
  /* Back to root, in the reverse order: the gid can only change once the uid is 0 again. An
   * effective-id change made this process non-dumpable, which closes its /proc/<pid>/fd to the
   * guest (it has no CAP_SYS_PTRACE): set it back. */
  int r = syscall(SYS_setresuid, -1, 0, -1) | syscall(SYS_setresgid, -1, 0, -1) | syscall(SYS_setgroups, 0, NULL);
  prctl(PR_SET_DUMPABLE, 1);
  return r;
}

/* mkdir -p of the directory part of `path`, with the caller's ids. */
static int make_parents(const char *path) {
  char *dir = strdup(path);
  if (!dir) { errno = ENOMEM; return -1; }
  char *slash = strrchr(dir, '/');
  int r = 0;
  if (slash && slash != dir) {
    *slash = '\0';
    for (char *p = dir + 1; r == 0; p++) {
      if (*p != '/' && *p != '\0') continue;
      char c = *p;
      *p = '\0';
      if (mkdir(dir, 0777) != 0 && errno != EEXIST) r = -1;
      *p = c;
      if (c == '\0') break;
    }
  }
  int e = errno;
  free(dir);
  errno = e;
  return r;
}

/* Replaces the user.e2b.* attributes of `fd` with the n pairs in `kv`: 1 done, 0 the file
 * system keeps none, -1 failed (errno). */
static int replace_metadata(int fd, char **kv, size_t n) {
  char names[65536];
  ssize_t len = flistxattr(fd, names, sizeof names);
  if (len < 0) return errno == ENOTSUP ? 0 : -1;
  for (char *name = names; name < names + len; name += strlen(name) + 1) {
    if (strncmp(name, METADATA_PREFIX, strlen(METADATA_PREFIX)) != 0) continue;
    int wanted = 0;
    for (size_t i = 0; i < n && !wanted; i++) wanted = strcmp(name + strlen(METADATA_PREFIX), kv[2 * i]) == 0;
    if (!wanted && fremovexattr(fd, name) != 0 && errno != ENODATA) return errno == ENOTSUP ? 0 : -1;
  }
  for (size_t i = 0; i < n; i++) {
    char name[256];
    if (snprintf(name, sizeof name, METADATA_PREFIX "%s", kv[2 * i]) >= (int)sizeof name) { errno = ENAMETOOLONG; return -1; }
    if (fsetxattr(fd, name, kv[2 * i + 1], strlen(kv[2 * i + 1]), 0) != 0) return errno == ENOTSUP ? 0 : -1;
  }
  return 1;
}

static void open_file(char **f, size_t k) {
  long id = strtol(f[1], NULL, 10);
  int metadata = strcmp(f[5], "-") != 0;
  /* The pairs that follow; a count that says otherwise is refused before any is read. */
  size_t n = (k - 6) / 2;
  if ((k - 6) % 2 != 0 || (metadata ? strtoul(f[5], NULL, 10) != n : n != 0)) { dprintf(1, "file-failed %ld %d malformed request\n", id, EINVAL); return; }
  if (open_file_count == MAX_OPEN_FILES) { dprintf(1, "file-failed %ld %d too many files open\n", id, EMFILE); return; }
  uid_t uid = (uid_t)strtoul(f[2], NULL, 10);
  gid_t gid = (gid_t)strtoul(f[3], NULL, 10);
  const char *path = f[4];
  int as_user = getuid() == 0 && uid != 0;
  int fd = -1, kept = 0, err = 0;
  const char *what = "";
  if (as_user && switch_ids(uid, gid, 1) != 0) { err = errno; what = "setresuid"; }
  if (!err && make_parents(path) != 0) { err = errno; what = "mkdir"; }
  if (!err && (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0) { err = errno; what = "open"; }
  if (!err && metadata && (kept = replace_metadata(fd, f + 6, n)) < 0) { err = errno; what = "metadata"; }
  if (as_user && switch_ids(0, 0, 0) != 0) {
    /* Never go on with a user's ids: the guest starts the factory again. */
    perror("agentbox-launcher: back to root");
    exit(1);
  }
  if (err) {
    if (fd >= 0) close(fd);
    dprintf(1, "file-failed %ld %d %s: %s\n", id, err, what, strerror(err));
    return;
  }
  open_files[open_file_count++] = fd;
  dprintf(1, "file %ld %d %d\n", id, fd, kept);
}

static void close_file(int fd) {
  for (size_t i = 0; i < open_file_count; i++) {
    if (open_files[i] != fd) continue;
    close(fd);
    open_files[i] = open_files[--open_file_count];
    return;
  }
}

static void request(char *buf, size_t len, const sigset_t *mask) {
  size_t k = 0;
  char **f = fields_of(buf, len, &k);
  /* Every run and open must be answered (the guest waits for the answers before it opens
   * /proc/<factory>/fd again), and which one this was is unknown: end, and the guest starts
   * the factory again and fails what it was waiting for. */
  if (!f) { perror("agentbox-launcher: request"); exit(1); }
  if (k >= 1 && strcmp(f[0], "slot") == 0) make_slot();
  else if (k >= 1 && strcmp(f[0], "run") == 0) run(f, k, mask);
  else if (k >= 2 && strcmp(f[0], "drop") == 0) drop(strtol(f[1], NULL, 10));
  else if (k >= 6 && strcmp(f[0], "open") == 0) open_file(f, k);
  else if (k >= 2 && strcmp(f[0], "close") == 0) close_file((int)strtol(f[1], NULL, 10));
  else dprintf(1, "error %d unknown request\n", EINVAL);
  free(f);
}

static void report_exits(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    if (WIFEXITED(status)) dprintf(1, "exit %d %d 0\n", (int)pid, WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) dprintf(1, "exit %d -1 %d\n", (int)pid, WTERMSIG(status));
  }
}

/* Requests read so far and not yet handled (a request may come in several reads). */
static char *in;
static size_t in_len, in_cap;

/* Reads what fd 0 has and handles every whole request in it; 0 once the guest is gone. */
static int read_requests(const sigset_t *mask) {
  if (in_cap - in_len < 65536) {
    size_t cap = in_cap ? in_cap * 2 : 131072;
    char *grown = realloc(in, cap);
    if (!grown) { perror("agentbox-launcher: request buffer"); return 0; }
    in = grown;
    in_cap = cap;
  }
  ssize_t n = read(0, in + in_len, in_cap - in_len);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return 0;
  in_len += (size_t)n;
  size_t at = 0;
  while (in_len - at >= 4) {
    const uint8_t *h = (const uint8_t *)in + at;
    uint32_t len = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
    if (len == 0 || len > MAX_REQUEST) { fprintf(stderr, "agentbox-launcher: bad request length %u\n", len); return 0; }
    if (in_len - at - 4 < len) break;
    request(in + at + 4, len, mask);
    at += 4 + len;
  }
  memmove(in, in + at, in_len - at);
  in_len -= at;
  return 1;
}

int main(void) {
  /* 0-2 must be taken so that the pipes never land there. */
  for (int fd = 0; fd < 3; fd++) if (fcntl(fd, F_GETFD) < 0) open("/dev/null", O_RDWR);
  /* Mapped once; only the pages a child touches are ever backed. */
  child_stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (child_stack == MAP_FAILED) { perror("agentbox-launcher: mmap"); return 1; }
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
    if (fds[0].revents && !read_requests(&old_mask)) return 0;
  }
}
