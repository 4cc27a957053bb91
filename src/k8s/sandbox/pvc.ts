// PersistentVolumeClaims of a Sandbox: `<template name>-<sandbox name>`, controlled by the
// Sandbox, never deleted by suspend, expiry or pod recreation (garbage collection removes them
// with the Sandbox).
import { KIND, LABEL } from '../../api/k8s/constants.ts';
import type { KubeObject, PersistentVolumeClaimTemplate, Sandbox } from '../../api/k8s/types.ts';
import { nameHash } from '../hash.ts';
import { controllerRef } from '../ownership.ts';
import { pvcNameOf } from './pod.ts';

export interface Pvc extends KubeObject { spec: Record<string, unknown> }

export function buildPvc(sb: Sandbox, vct: PersistentVolumeClaimTemplate): Pvc {
  return {
    apiVersion: 'v1', kind: 'PersistentVolumeClaim',
    metadata: {
      name: pvcNameOf(vct.metadata?.name ?? '', sb.metadata.name!),
      namespace: sb.metadata.namespace,
      labels: { ...(vct.metadata?.labels ?? {}), [LABEL.sandboxNameHash]: nameHash(sb.metadata.name!) },
      ...(vct.metadata?.annotations ? { annotations: vct.metadata.annotations } : {}),
      ownerReferences: [controllerRef(sb, KIND.Sandbox)],
    },
    spec: vct.spec,
  };
}
