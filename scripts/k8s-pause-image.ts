// The pod sandbox image of the node of scripts/k8s-node.sh: a root filesystem holding only the
// static `pause` binary built from k8s.io/kubernetes' build/pause/linux/pause.c, as an OCI archive.
//   node --import tsx scripts/k8s-pause-image.ts ROOTFS_DIR REF OUT.tar
import { writeOciArchive } from '../src/engine/images/oci-export.ts';

const [rootfs, ref, out] = process.argv.slice(2);
if (!rootfs || !ref || !out) {
  console.error('usage: k8s-pause-image.ts ROOTFS_DIR REF OUT.tar');
  process.exit(2);
}
await writeOciArchive(out, { ref, layers: [{ dir: rootfs }], entrypoint: ['/pause'] });
