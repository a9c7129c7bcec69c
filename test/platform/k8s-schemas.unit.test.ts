// deploy/k8s validated against the Kubernetes API's own schemas (issue 17): every manifest the
// kustomization lists is checked with the JSON schema of its kind and version, from kubernetes-models
// (generated from the Kubernetes OpenAPI document) and @kubernetes-models/keda (from KEDA's CRDs).
// No cluster and no kubectl here; this catches a wrong type, a missing required field or a kind in
// the wrong API version, not a field name that the schema does not forbid.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { projectRoot } from '../../src/stack/paths.ts';

type Manifest = { apiVersion: string; kind: string; metadata?: { name?: string } } & Record<string, unknown>;

/** A model per `apiVersion kind`: constructing one and calling validate() checks it against its schema. */
const models: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1 Deployment': Deployment,
  'apps/v1 StatefulSet': StatefulSet,
  'batch/v1 Job': Job,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'v1 ConfigMap': ConfigMap,
  'v1 Namespace': Namespace,
  'v1 Service': Service,
  'keda.sh/v1alpha1 ScaledObject': ScaledObject,
};

const dir = join(projectRoot, 'deploy/k8s');
const { resources } = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
const manifests = resources.flatMap((file) =>
  parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => ({
    file,
    manifest: d.toJS() as Manifest,
  })),
);

function validate(manifest: Manifest): void {
  const Model = models[`${manifest.apiVersion} ${manifest.kind}`];
  if (!Model) throw new Error(`no schema here for ${manifest.apiVersion} ${manifest.kind}`);
  new Model(manifest as never).validate();
}

describe('deploy/k8s against the Kubernetes schemas', () => {
  it('has a schema for every kind it uses, and every manifest conforms', () => {
    expect(manifests.length).toBeGreaterThan(10);
    for (const { file, manifest } of manifests) {
      expect(() => validate(manifest), `${file}: ${manifest.kind} ${manifest.metadata?.name}`).not.toThrow();
    }
  });

  it('would refuse a manifest with a wrong type or a missing required field', () => {
    const deployment = manifests.find((m) => m.manifest.kind === 'Deployment')!.manifest;
    const copy = () => structuredClone(deployment) as Manifest & { spec: Record<string, unknown> };
    const replicasAsText = copy();
    replicasAsText.spec.replicas = 'two';
    expect(() => validate(replicasAsText)).toThrow();
    const noTemplate = copy();
    delete noTemplate.spec.template;
    expect(() => validate(noTemplate)).toThrow();
  });
});
