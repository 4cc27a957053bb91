// Owner references: who controls an object, and whether a Sandbox may adopt an unowned one.
import { LABEL, type TypeMeta } from '../api/k8s/constants.ts';
import type { KubeObject, OwnerReference } from '../api/k8s/types.ts';

export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller);
}

export function isControlledBy(obj: KubeObject, owner: KubeObject): boolean {
  return controllerOf(obj)?.uid === owner.metadata.uid;
}

export function controllerRef(owner: KubeObject, type: TypeMeta): OwnerReference {
  return {
    apiVersion: type.apiVersion, kind: type.kind, name: owner.metadata.name!, uid: owner.metadata.uid!,
    controller: true, blockOwnerDeletion: true,
  };
}

/** An unowned object may be adopted when it says so, or already carries this sandbox's hash. */
export function mayAdopt(obj: KubeObject, sandboxNameHash: string): boolean {
  if (controllerOf(obj)) return false;
  const labels = obj.metadata.labels ?? {};
  return labels[LABEL.adoptable] === 'true' || labels[LABEL.sandboxNameHash] === sandboxNameHash;
}
