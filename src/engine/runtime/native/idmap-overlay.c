/*
 * agentbox-idmap-overlay: mounts a runc sandbox's root filesystem so that, seen from inside
 * the sandbox's user namespace, the image looks owned by root although the sandbox's root is
 * an unprivileged host uid.
 *
 *   agentbox-idmap-overlay <host-id> <count> <target> <upper> <work> <lower>...
 *
 * The image layers are shared by every sandbox and owned by host root. Each lower layer is
 * cloned as an idmapped, read-only mount whose id mapping is the sandbox's own
 * (0 -> host-id, count ids), so host uid 0 appears as host-id and hence as root inside. The
 * upper dir is not idmapped: the engine creates it owned by host-id, so everything a sandbox
 * writes is stored under its unprivileged ids on the host.
 *
 * overlayfs accepts idmapped layers only while they are attached to the caller's mount
 * namespace, so the layers are attached, stacked on <target>, in a private mount namespace
 * that dies with this process; the finished overlay is a detached mount, moved onto <target>
 * in the host's mount namespace. Nothing but the overlay itself is ever visible on the host,
 * so there is nothing to unmount or leak if this process dies half-way.
 *
 * Needs Linux >= 6.8 (overlayfs "lowerdir+") and glibc >= 2.36 (mount API wrappers).
 * Exit status 0 on success; otherwise one line on stderr naming the failed step.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

static void fail(const char *what, const char *arg) {
  fprintf(stderr, "%s%s%s: %s\n", what, arg ? " " : "", arg ? arg : "", strerror(errno));
  exit(1);
}

/* A user namespace with the sandbox's mapping, held by an fd: a child unshares one and waits. */
static int mapping_userns(const char *host_id, const char *count) {
  int ready[2], done[2];
  if (pipe(ready) || pipe(done)) fail("pipe", NULL);
  pid_t child = fork();
  if (child < 0) fail("fork", NULL);
  if (child == 0) {
    char b;
    close(ready[0]);
    close(done[1]);
    if (unshare(CLONE_NEWUSER)) _exit(1);
    if (write(ready[1], "x", 1) != 1) _exit(1);
    if (read(done[0], &b, 1) < 0) _exit(1);
    _exit(0);
  }
  close(ready[1]);
  close(done[0]);
  char b;
  if (read(ready[0], &b, 1) != 1) {
    errno = EPERM;
    fail("unshare user namespace", NULL);
  }
  char path[64], map[64];
  snprintf(map, sizeof map, "0 %s %s\n", host_id, count);
  const char *files[] = {"uid_map", "gid_map"};
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "/proc/%d/%s", (int)child, files[i]);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, map, strlen(map)) < 0) fail("write", path);
    close(fd);
  }
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)child);
  int ns = open(path, O_RDONLY | O_CLOEXEC);
  if (ns < 0) fail("open", path);
  close(done[1]);
  waitpid(child, NULL, 0);
  return ns;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: %s <host-id> <count> <target> <upper> <work> <lower>...\n", argv[0]);
    return 2;
  }
  const char *target = argv[3], *upper = argv[4], *work = argv[5];
  int nlower = argc - 6;
  int userns = mapping_userns(argv[1], argv[2]);

  int host_mnt_ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  int target_fd = open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (host_mnt_ns < 0) fail("open", "/proc/self/ns/mnt");
  if (target_fd < 0) fail("open", target);

  int *layers = calloc((size_t)nlower, sizeof(int));
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, .userns_fd = (unsigned long long)userns};
  for (int i = 0; i < nlower; i++) {
    layers[i] = open_tree(AT_FDCWD, argv[6 + i], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (layers[i] < 0) fail("open_tree", argv[6 + i]);
    if (mount_setattr(layers[i], "", AT_EMPTY_PATH, &attr, sizeof attr)) fail("idmap layer", argv[6 + i]);
  }

  /* A private copy of the mount table: the layers attached below never reach the host's. */
  if (unshare(CLONE_NEWNS)) fail("unshare mount namespace", NULL);
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) fail("make mounts private", NULL);

  int fs = fsopen("overlay", FSOPEN_CLOEXEC);
  if (fs < 0) fail("fsopen overlay", NULL);
  /* Top-most layer first, as in lowerdir=. Each is stacked on target and named by it while on top. */
  for (int i = 0; i < nlower; i++) {
    if (move_mount(layers[i], "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH)) fail("attach layer", argv[6 + i]);
    if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", target, 0)) fail("overlay lowerdir+", argv[6 + i]);
  }
  if (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0)) fail("overlay upperdir", upper);
  if (fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0)) fail("overlay workdir", work);
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0)) fail("create overlay (see dmesg)", NULL);
  int overlay = fsmount(fs, FSMOUNT_CLOEXEC, 0);
  if (overlay < 0) fail("fsmount overlay", NULL);

  if (setns(host_mnt_ns, CLONE_NEWNS)) fail("return to the host mount namespace", NULL);
  if (move_mount(overlay, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)) fail("mount overlay on", target);
  return 0;
}
