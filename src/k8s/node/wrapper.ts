// The runsc wrapper the node's containerd shim runs instead of runsc (runsc.toml `binary_name`).
// gVisor's shim has no way to restore a pod from a checkpoint over CRI (its Restore is an
// internal extension, pkg/shim/v1/runsc/service.go), so the wrapper does what the shim's own
// restore path does after `create` (pkg/shim/v1/proc/init.go): for `runsc … start <id>` of a
// container whose OCI spec carries the pod annotation `agentbox.dev/restore-from` (containerd's
// runsc runtime passes `agentbox.dev/*` pod annotations through, scripts/k8s-node.sh), it runs
// `runsc … restore --detach --image-path <dir> <id>` instead. gVisor matches the checkpoint's
// containers by name, so the pause container and every app container are restored that way.
//
// It runs on every runsc call of the node, so it is POSIX sh with sed, no interpreter. A restore
// happens only when the directory lies under the node agent's snapshots directory and holds the
// grant the node agent writes after verifying the snapshot for that pod
// (`restore-grants/<namespace>/<name>`, one file per pod, so several pods may restore one
// snapshot at once: the members of a golden-snapshot warm pool): an annotation set by hand on
// some pod restores nothing, and a container that restarts after its snapshot was released
// simply starts.
import { isAbsolute, join } from 'node:path';
import { AgentboxError } from '../../api/errors.ts';
import { ANNOTATION } from '../../api/k8s/constants.ts';
/** The directory in a snapshot directory whose files `<namespace>/<name>` each allow that pod to restore it. */
export const GRANTS_DIR = 'restore-grants';
/** The file that allows pod `namespace/name` to restore the snapshot in `snapshotDir`. */
export const grantPath = (snapshotDir: string, namespace: string, name: string) => join(snapshotDir, GRANTS_DIR, namespace, name);
/** Where a snapshot's checkpoint images live, under its directory. */
export const IMAGES_DIR = 'images';

export interface WrapperPaths {
  /** The real runsc binary. */
  runsc: string;
  /** The node agent's snapshots directory. */
  snapshots: string;
}

const safePath = (what: string, p: string) => {
  if (!isAbsolute(p) || !/^[A-Za-z0-9._/-]+$/.test(p) || p.split('/').includes('..')) {
    throw new AgentboxError('invalid_argument', `${what} must be an absolute path of letters, digits, '.', '_', '-' and '/' (got ${JSON.stringify(p)})`);
  }
  return p.replace(/\/+$/, '');
};

/** A key as a literal in sed's basic regex: its dots escaped. */
const sedLiteral = (key: string) => key.replaceAll('.', '\\.');

export function renderWrapper(paths: WrapperPaths): string {
  const runsc = safePath('the runsc path', paths.runsc);
  const snapshots = safePath('the snapshots directory', paths.snapshots);
  return `#!/bin/sh
# agentbox's runsc wrapper (written by \`agentbox node\`; src/k8s/node/wrapper.ts says why).
REAL=${runsc}
SNAPSHOTS=${snapshots}
[ "$#" -ge 2 ] || exec "$REAL" "$@"
for a; do verb=$id; id=$a; done
[ "$verb" = start ] || exec "$REAL" "$@"
# The global flags: every argument but the last two.
n=$#; i=0
for a; do i=$((i + 1)); [ "$i" -le $((n - 2)) ] && set -- "$@" "$a"; done
shift "$n"
bundle=$("$REAL" "$@" state "$id" | sed -n 's/^ *"bundle": *"\\([^"]*\\)".*/\\1/p')
annotation() { sed -n "s|.*\\"$1\\": *\\"\\([^\\"]*\\)\\".*|\\1|p" "$bundle/config.json" 2>/dev/null; }
dir=$(annotation '${sedLiteral(ANNOTATION.restoreFrom)}')
[ -n "$dir" ] || exec "$REAL" "$@" start "$id"
pod="$(annotation 'io\\.kubernetes\\.cri\\.sandbox-namespace')/$(annotation 'io\\.kubernetes\\.cri\\.sandbox-name')"
# Object names are DNS subdomains: no '..', one '/' between namespace and name.
case "$pod" in
  *[!a-z0-9./-]*|*..*|/*|*/|*/*/*) pod="" ;;
esac
case "$dir" in
  *..*|*[!A-Za-z0-9._/-]*) reason="a path outside $SNAPSHOTS" ;;
  "$SNAPSHOTS"/*)
    if [ -n "$pod" ] && [ -f "$dir/${GRANTS_DIR}/$pod" ]; then
      exec "$REAL" "$@" restore --detach --image-path "$dir/${IMAGES_DIR}" "$id"
    fi
    reason="no restore grant for pod \${pod:-with that name}" ;;
  *) reason="a path outside $SNAPSHOTS" ;;
esac
echo "agentbox runsc wrapper: not restoring container $id from $dir ($reason); starting it fresh" >&2
exec "$REAL" "$@" start "$id"
`;
}
