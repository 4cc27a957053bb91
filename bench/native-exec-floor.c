/*
 * The exec floor (bench/native-exec-floor.ts): what a guest written in C could at best reach for
 * one command under gVisor. A static HTTP/1.1 server that serves one keep-alive connection at a
 * time and answers each request by starting /bin/true the way the guest's process factory does
 * (posix_spawn, which glibc runs as clone(CLONE_VM | CLONE_VFORK)), waiting for it, and writing
 * its exit code in one write. No protocol, no streaming, no pipes: a lower bound, not a guest.
 *
 * Usage: native-exec-floor PORT
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Runs /bin/true and answers with its exit code. */
static int answer(int conn) {
  pid_t pid;
  char *argv[] = { "true", NULL };
  int status = 0;
  if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) != 0 || waitpid(pid, &status, 0) < 0) status = 127 << 8;
  char body[8], out[96];
  int body_len = snprintf(body, sizeof body, "%d", WEXITSTATUS(status));
  int len = snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", body_len, body);
  return write(conn, out, len) == len ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: %s PORT\n", argv[0]); return 2; }
  int one = 1;
  int server = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
  if (bind(server, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(server, 4) != 0) { perror("listen"); return 1; }
  char buf[8192];
  for (;;) {
    int conn = accept(server, NULL, NULL);
    if (conn < 0) continue;
    setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    size_t have = 0;
    for (;;) {
      ssize_t n = read(conn, buf + have, sizeof buf - 1 - have);
      if (n <= 0) break;
      have += (size_t)n;
      buf[have] = '\0';
      /* Requests are bodiless GETs: each ends at its blank line. */
      char *end;
      while ((end = strstr(buf, "\r\n\r\n")) != NULL) {
        if (answer(conn) != 0) { have = 0; goto next; }
        size_t used = (size_t)(end + 4 - buf);
        memmove(buf, buf + used, have - used + 1);
        have -= used;
      }
      if (have == sizeof buf - 1) break;
    }
  next:
    close(conn);
  }
}
