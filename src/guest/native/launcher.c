/*
 * agentbox-launcher: a process started ahead of time that becomes the program the guest is
 * asked to run. Forking the guest (a Node process with a large address space) costs ~8 ms under
 * gVisor; a pre-started launcher only has to execve, so the fork is off the request's path.
 *
 * Protocol (the guest holds the other ends):
 *   fd 0-2  the future program's stdin/stdout/stderr
 *   fd 3    request, read to EOF: NUL-terminated fields
 *           uid, gid, cwd, stdin ("1" keep / "0" /dev/null), argc, argv..., envc, env...
 *   fd 4    close-on-exec status pipe: EOF = exec succeeded; otherwise one line
 *           "<errno> <message>" and exit status 127.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void fail(int err, const char *what) {
  dprintf(4, "%d %s: %s\n", err, what, strerror(err));
  _exit(127);
}

int main(void) {
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (len == cap && !(buf = realloc(buf, cap *= 2))) fail(ENOMEM, "request");
    ssize_t n = read(3, buf + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(errno, "read request");
    if (n == 0) break;
    len += (size_t)n;
  }
  close(3);
  if (len == 0) _exit(0); /* the guest retired this launcher unused */

  /* Split the request into its NUL-terminated fields. */
  size_t nfields = 0;
  for (size_t i = 0; i < len; i++) nfields += buf[i] == '\0';
  char **f = calloc(nfields + 1, sizeof(char *));
  size_t k = 0;
  for (size_t i = 0, start = 0; i < len; i++) if (buf[i] == '\0') { f[k++] = buf + start; start = i + 1; }
  if (k < 6) fail(EINVAL, "request");
  uid_t uid = (uid_t)strtoul(f[0], NULL, 10);
  gid_t gid = (gid_t)strtoul(f[1], NULL, 10);
  const char *cwd = f[2];
  int keep_stdin = f[3][0] == '1';
  size_t argc = strtoul(f[4], NULL, 10);
  if (5 + argc + 1 > k || argc == 0) fail(EINVAL, "request argv");
  char **argv = calloc(argc + 1, sizeof(char *));
  for (size_t i = 0; i < argc; i++) argv[i] = f[5 + i];
  size_t envc = strtoul(f[5 + argc], NULL, 10);
  if (6 + argc + envc > k) fail(EINVAL, "request env");
  char **envp = calloc(envc + 1, sizeof(char *));
  for (size_t i = 0; i < envc; i++) envp[i] = f[6 + argc + i];

  /* Own session and process group: signals reach the whole tree, never the guest. */
  setsid();
  if (!keep_stdin) {
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) { dup2(null, 0); close(null); }
  }
  if (getuid() == 0) {
    if (setgroups(0, NULL) != 0) fail(errno, "setgroups");
    if (setgid(gid) != 0) fail(errno, "setgid");
    if (setuid(uid) != 0) fail(errno, "setuid");
  }
  if (chdir(cwd) != 0) fail(errno, "chdir");
  fcntl(4, F_SETFD, FD_CLOEXEC);
  /* PATH lookup in the program's own environment, as a shell would. */
  environ = envp;
  execvp(argv[0], argv);
  fail(errno, argv[0]);
  return 127;
}
