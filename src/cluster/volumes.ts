/**
 * Volumes on Kubernetes (docs/volumes.md, "Kubernetes"): a volume is a PersistentVolumeClaim in
 * the sandbox namespace, labelled as a volume of its tenant, its name kept in an annotation (names
 * may hold `_` and capitals, which object names may not); its id is the PVC's uid (a UUID, as E2B
 * ids are). The PVC's own name is a hash of tenant and name, so the API server itself keeps a
 * name unique within a tenant, whichever replica creates it. A sandbox mounts volumes through its
 * claim's `agentbox.dev/volume-mounts` (sandboxes.ts; the operator adds them to the pod).
 */
import { createHash } from 'node:crypto';
import { AgentboxError, notFound } from '../api/errors.ts';
import { ANNOTATION, LABEL, type VolumeAccessMode } from '../api/k8s/constants.ts';
import type { KubeObject } from '../api/k8s/types.ts';
import type { VolumeMountBody, VolumeView } from '../api/native.ts';
import { parseMemoryMiB } from '../api/quantity.ts';
import { checkMountPaths } from '../api/volume-mount-path.ts';
import { isAlreadyExists, isNotFound, PVCS, type KubeClient } from '../k8s/client.ts';
import type { Informer } from '../k8s/informer.ts';
import type { Principal } from '../server/backend.ts';
import { resolveMounts, type VolumeOps } from '../server/volumes/volume-service.ts';

export interface Pvc extends KubeObject {
  spec: { accessModes?: string[]; storageClassName?: string; resources?: { requests?: { storage?: string } } };
}

export interface ClusterVolumeOptions {
  /** The PVCs' storage class; absent: the cluster's default class. */
  storageClass?: string;
  /**
   * ReadWriteOnce (default) lets every pod on one node mount it, which is all a single-node
   * cluster (or sandboxes kept on one node) needs; ReadWriteMany, from a class that offers it
   * (NFS, CephFS, a cloud file store), lets pods on any node share it.
   */
  accessMode?: VolumeAccessMode;
  /** The size of a volume created without one (E2B's create has none); default 10 GiB, as one machine's policy. */
  defaultSizeMiB?: number;
}

export interface ClusterVolumesDeps extends ClusterVolumeOptions {
  client: KubeClient;
  namespace: string;
  /** The namespace's PVCs labelled LABEL.volume. */
  pvcs: Informer<Pvc>;
  /** The sandboxes (claims not being deleted) that mount PVC `claimName`. */
  mountedBy(claimName: string): string[];
}

/** A volume a sandbox mounts, as its claim records it (`agentbox.dev/volume-mounts`). */
export interface ClaimVolume { claimName: string; name: string; path: string }

const DEFAULT_SIZE_MIB = 10_240;

const notSupported = (what: string, instead: string) =>
  new AgentboxError('not_supported', `${what} is not available on the Kubernetes backend; ${instead} (docs/volumes.md)`);

/** The PVC of volume `name` of `tenantId`: one per name and tenant, a valid object name. */
export function pvcNameOf(tenantId: string, name: string): string {
  return `agentbox-volume-${createHash('sha256').update(`${tenantId}\0${name}`).digest('hex').slice(0, 32)}`;
}

/** The storage request in MiB (the API server writes it canonically: 10240Mi comes back as 10Gi). */
const sizeMiBOf = (pvc: Pvc): number => parseMemoryMiB(pvc.spec.resources?.requests?.storage ?? '', `PersistentVolumeClaim ${pvc.metadata.name} storage`);

export class ClusterVolumes implements VolumeOps {
  /** PVCs this replica deleted that its cache still holds (a mounted PVC lingers until its pods go). */
  private readonly deleted = new Set<string>();

  constructor(private readonly d: ClusterVolumesDeps) {
    d.pvcs.on((type, pvc) => { if (type === 'delete') this.deleted.delete(pvc.metadata.uid!); });
  }

  /** A volume not being deleted (a PVC labelled by hand without a volume name is none). */
  private live(pvc: Pvc): boolean {
    return !pvc.metadata.deletionTimestamp && !this.deleted.has(pvc.metadata.uid!) && !!pvc.metadata.annotations?.[ANNOTATION.volumeName];
  }

  /** The caller's volume by id (the PVC's uid) or name; another tenant's is not_found. */
  private own(p: Principal, ref: string): Pvc {
    const [pvc] = this.d.pvcs.list((x) => this.live(x) && x.metadata.labels?.[LABEL.tenant] === p.tenantId
      && (x.metadata.uid === ref || x.metadata.annotations?.[ANNOTATION.volumeName] === ref), this.d.namespace);
    if (!pvc) throw notFound('volume', ref);
    return pvc;
  }

  private view(pvc: Pvc): VolumeView {
    // No content token: the content API is not served on a cluster (content() below says why).
    return { id: pvc.metadata.uid!, name: pvc.metadata.annotations![ANNOTATION.volumeName]!, sizeMiB: sizeMiBOf(pvc), createdAt: pvc.metadata.creationTimestamp ?? new Date(0).toISOString(), token: '' };
  }

  async create(p: Principal, name: string, sizeMiB?: number): Promise<VolumeView> {
    const size = sizeMiB ?? this.d.defaultSizeMiB ?? DEFAULT_SIZE_MIB;
    try {
      const pvc = await this.d.client.create<Pvc>(PVCS, this.d.namespace, {
        apiVersion: 'v1', kind: 'PersistentVolumeClaim',
        metadata: {
          name: pvcNameOf(p.tenantId, name),
          labels: { [LABEL.volume]: 'true', [LABEL.tenant]: p.tenantId },
          annotations: { [ANNOTATION.volumeName]: name },
        },
        spec: {
          accessModes: [this.d.accessMode ?? 'ReadWriteOnce'],
          resources: { requests: { storage: `${size}Mi` } },
          ...(this.d.storageClass ? { storageClassName: this.d.storageClass } : {}),
        },
      });
      this.d.pvcs.observe(pvc);
      return this.view(pvc);
    } catch (e) {
      if (isAlreadyExists(e)) throw new AgentboxError('already_exists', `Volume with name '${name}' already exists`);
      throw e;
    }
  }

  list(p: Principal): VolumeView[] {
    return this.d.pvcs.list((x) => this.live(x) && x.metadata.labels?.[LABEL.tenant] === p.tenantId, this.d.namespace)
      .map((x) => this.view(x))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  get(p: Principal, ref: string): VolumeView {
    return this.view(this.own(p, ref));
  }

  /** Refused while a sandbox (running or paused: its claim exists) mounts it, as on one machine. */
  async delete(p: Principal, ref: string): Promise<void> {
    const pvc = this.own(p, ref);
    const name = pvc.metadata.annotations![ANNOTATION.volumeName]!;
    const sandboxes = this.d.mountedBy(pvc.metadata.name!);
    if (sandboxes.length > 0) {
      throw new AgentboxError('conflict', `volume '${name}' is mounted by a sandbox; kill the sandboxes that mount it first`, { details: { sandboxes } });
    }
    try {
      await this.d.client.delete(PVCS, this.d.namespace, pvc.metadata.name!, { preconditions: { uid: pvc.metadata.uid! } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    this.deleted.add(pvc.metadata.uid!);
  }

  /**
   * The PVCs of a create's `volumes`: the caller's volumes by name (resolveMounts, as on one
   * machine) at paths one machine would allow (checkMountPaths).
   */
  claimVolumes(p: Principal, wanted: VolumeMountBody[]): ClaimVolume[] {
    const found = resolveMounts(wanted, (name) => {
      const [pvc] = this.d.pvcs.list((x) => this.live(x) && x.metadata.labels?.[LABEL.tenant] === p.tenantId && x.metadata.annotations?.[ANNOTATION.volumeName] === name, this.d.namespace);
      return pvc && { name, claimName: pvc.metadata.name! };
    });
    checkMountPaths(found);
    return found.map((m) => ({ claimName: m.volume.claimName, name: m.volume.name, path: m.path }));
  }

  /**
   * A volume's files live on the cluster's storage, which this server does not mount; serving them
   * soundly needs a pod that mounts the claim, which is not built yet.
   */
  content(): never {
    throw notSupported('the volume content API (/volumecontent)', 'read and write a volume\'s files from a sandbox that mounts it');
  }
}
