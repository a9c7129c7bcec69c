// The deployment files agree with the code (issue 17, item 4): docker/Dockerfile, compose.yaml and
// deploy/k8s name only variables src/config/config.ts reads, run only roles the CLI knows, probe the
// paths and ports the processes serve (/healthz, /readyz; CV_HTTP_PORT, CV_HEALTH_PORT), and give the
// roles every NATS node with streams at 3 replicas. None of them can be run here (no image registry is
// reachable); this is what can be checked without.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { configSchema } from '../../src/config/config.ts';
import { dispatchConsumerName } from '../../src/executor/executor.ts';
import { allRoles } from '../../src/roles/registry.ts';
import { projectRoot } from '../../src/stack/paths.ts';

const read = (path: string) => readFileSync(join(projectRoot, path), 'utf8');
const configVariables = new Set(Object.keys(configSchema.shape));
/** Variables the processes read that are not in the configuration schema. */
const otherVariables = new Set(['NODE_ENV']);
const known = (name: string) =>
  configVariables.has(name) || otherVariables.has(name) || name.startsWith('OTEL_');
const defaults = configSchema.parse({});

type Env = Record<string, string>;
type Service = {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Env;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number; resources?: { limits?: { cpus?: string; memory?: string } } };
  ports?: string[];
  group_add?: string[];
};

describe('docker/Dockerfile', () => {
  const dockerfile = read('docker/Dockerfile');
  const env = Object.fromEntries(
    [...dockerfile.matchAll(/\b(CV_[A-Z_]+|NODE_ENV)=(\S+)/g)].map((m) => [m[1]!, m[2]!]),
  );

  it('builds in stages from Node 24 slim, installs production dependencies only, runs as non-root', () => {
    const from = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(from.length).toBeGreaterThanOrEqual(2);
    for (const image of from) expect(image).toMatch(/^node:24-[a-z]+-slim$/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    // tsx runs the TypeScript: it must be a runtime dependency, and tsconfig.json (JSX) must be there.
    expect(JSON.parse(read('package.json')).dependencies.tsx).toBeDefined();
    expect(dockerfile).toMatch(/^COPY package\.json tsconfig\.json/m);
  });

  it('starts the CLI as bin/chronoverse does, under tini', () => {
    const entry = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expect(entry.slice(0, 2)).toEqual(['tini', '--']);
    expect(dockerfile).toMatch(/apt-get install -y --no-install-recommends tini/);
    expect(entry.slice(2).join(' ')).toBe(JSON.parse(read('package.json')).scripts.chronoverse);
  });

  it('checks /healthz on the health port it sets, and names only variables the config reads', () => {
    expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*process\.env\.CV_HEALTH_PORT\+'\/healthz'/);
    expect(env.CV_HEALTH_PORT).toBe('8081');
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${env.CV_HTTP_PORT} ${env.CV_HEALTH_PORT}$`, 'm'));
    for (const name of Object.keys(env)) expect(known(name), name).toBe(true);
    expect(() => configSchema.parse(env)).not.toThrow();
  });
});

describe('compose.yaml', () => {
  const compose = parse(read('compose.yaml'), { merge: true }) as { services: Record<string, Service> };
  const services = compose.services;
  const roles = Object.entries(services).filter(([, s]) => s.build !== undefined);

  it('has three NATS nodes with unique names, routed to each other, each with its own volume', () => {
    const nodes = Object.entries(services).filter(([name]) => /^nats-\d$/.test(name));
    expect(nodes.map(([n]) => n)).toEqual(['nats-1', 'nats-2', 'nats-3']);
    for (const [name, s] of nodes) {
      const args = s.command!;
      expect(args[args.indexOf('--name') + 1]).toBe(name);
      const routes = args[args.indexOf('--routes') + 1]!.split(',');
      expect(routes.sort()).toEqual(
        nodes.filter(([other]) => other !== name).map(([other]) => `nats://${other}:6222`),
      );
      expect(args).toContain('-js');
      expect(s.volumes).toEqual([`${name}:/data`]);
    }
  });

  it('runs every role as its own service of the one image, with limits, after the migrations', () => {
    const commands = roles.map(([, s]) => s.command?.[0]);
    expect(commands.sort()).toEqual([...allRoles, 'migrate'].sort());
    for (const [name, s] of roles) {
      expect(s.image, name).toBe('chronoverse:local');
      if (name === 'migrate') continue;
      expect(s.depends_on, name).toEqual({ migrate: { condition: 'service_completed_successfully' } });
      expect(s.deploy?.resources?.limits?.memory, name).toBeDefined();
      expect(s.deploy?.resources?.limits?.cpus, name).toBeDefined();
    }
  });

  it('gives the roles every NATS node, R3 streams and only variables the config reads', () => {
    for (const [name, s] of roles) {
      const env = s.environment!;
      for (const variable of Object.keys(env)) expect(known(variable), `${name} ${variable}`).toBe(true);
      expect(env.NATS_URL!.split(',')).toEqual([1, 2, 3].map((i) => `nats://nats-${i}:4222`));
      expect(env.CV_NATS_REPLICAS).toBe('3');
      expect(env.CV_HEALTH_PORT).toBe('8081');
    }
    // The API publishes the port it listens on.
    expect(services.api!.ports).toEqual([`127.0.0.1:${defaults.CV_HTTP_PORT}:${defaults.CV_HTTP_PORT}`]);
  });

  it('gives the Docker socket to the executor alone, through its group', () => {
    for (const [name, s] of Object.entries(services)) {
      const sock = (s.volumes ?? []).some((v) => v.startsWith('/var/run/docker.sock'));
      expect(sock, name).toBe(name === 'executor');
    }
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's own interpolation syntax
    expect(services.executor!.group_add).toEqual(['${DOCKER_GID:-0}']);
    expect(services.executor!.environment!.DOCKER_HOST).toBe('unix:///var/run/docker.sock');
  });
});

type Probe = { httpGet: { path: string; port: string | number } };
type Container = {
  image: string;
  args: string[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { limits?: { memory?: string } };
};
type Manifest = {
  kind: string;
  metadata: { name: string };
  data?: Env;
  spec: {
    selector?: { matchLabels: Env };
    template?: { metadata: { labels: Env }; spec: { containers: Container[]; securityContext?: Env } };
    scaleTargetRef?: { kind: string; name: string };
    triggers?: { type: string; metadata: Env }[];
  };
};

describe('deploy/k8s', () => {
  const dir = join(projectRoot, 'deploy/k8s');
  const kustomization = parse(read('deploy/k8s/kustomization.yaml')) as { resources: string[] };
  const manifests = kustomization.resources.flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => d.toJS() as Manifest),
  );
  const workloads = manifests.filter((m) => ['Deployment', 'StatefulSet', 'Job'].includes(m.kind));
  const container = (m: Manifest) => m.spec.template!.spec.containers[0]!;
  const config = manifests.find((m) => m.kind === 'ConfigMap')!.data!;

  it('lists every file of the folder but the NATS chart values', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources, 'nats-values.yaml'].sort()).toEqual(files.sort());
  });

  it('runs each role from the one image, and the migrations as a Job', () => {
    const byRole = Object.fromEntries(workloads.map((m) => [container(m).args[0], m.kind]));
    expect(byRole).toEqual({
      api: 'Deployment',
      scheduler: 'Deployment',
      projector: 'Deployment',
      // Stable pod names: CV_EXECUTOR_ID survives a restart (recovery of its containers).
      executor: 'StatefulSet',
      migrate: 'Job',
    });
    for (const m of workloads) {
      expect(container(m).image).toBe('chronoverse');
      expect(m.spec.template!.spec.securityContext?.runAsNonRoot, m.metadata.name).toBe(true);
      expect(container(m).resources?.limits?.memory, m.metadata.name).toBeDefined();
      const from = container(m).envFrom!.map((e) => e.configMapRef?.name ?? e.secretRef?.name);
      expect(from).toEqual(['chronoverse', 'chronoverse-secrets']);
    }
  });

  it('probes liveness on /healthz and readiness on /readyz, on the ports the processes serve', () => {
    for (const m of workloads.filter((w) => w.kind !== 'Job')) {
      const c = container(m);
      const ports = Object.fromEntries((c.ports ?? []).map((p) => [p.name, p.containerPort]));
      expect(ports.health).toBe(Number(config.CV_HEALTH_PORT));
      expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'health' });
      expect(c.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'health' });
      const role = c.args[0];
      // The API's readiness is asked where it serves (what the Service routes to); the others' on theirs.
      expect(c.readinessProbe?.httpGet, role).toEqual({
        path: '/readyz',
        port: role === 'api' ? 'http' : 'health',
      });
      if (role === 'api') expect(ports.http).toBe(Number(config.CV_HTTP_PORT));
    }
  });

  it('has a PodDisruptionBudget for every role', () => {
    const pdbs = manifests.filter((m) => m.kind === 'PodDisruptionBudget');
    for (const m of workloads.filter((w) => w.kind !== 'Job')) {
      const labels = m.spec.template!.metadata.labels;
      const covering = pdbs.filter((p) =>
        Object.entries(p.spec.selector!.matchLabels).every(([k, v]) => labels[k] === v),
      );
      expect(covering, m.metadata.name).toHaveLength(1);
    }
  });

  it('configures only variables the config reads, every NATS node and R3 streams', () => {
    const names = [
      ...Object.keys(config),
      ...workloads.flatMap((m) => (container(m).env ?? []).map((e) => e.name)),
    ];
    for (const name of names) expect(known(name), name).toBe(true);
    expect(config.NATS_URL!.split(',')).toHaveLength(3);
    expect(config.CV_NATS_REPLICAS).toBe('3');
    expect(Number(config.CV_SHUTDOWN_DELAY_SECONDS)).toBeGreaterThan(0);
    expect(() => configSchema.parse(config)).not.toThrow();
  });

  it('scales each executor pool on its dispatch consumer with KEDA', () => {
    const executors = workloads.filter((m) => container(m).args[0] === 'executor');
    for (const m of executors) {
      const pool = container(m).env!.find((e) => e.name === 'CV_EXECUTOR_POOL')!.value!;
      const scaled = manifests.find(
        (s) => s.kind === 'ScaledObject' && s.spec.scaleTargetRef!.name === m.metadata.name,
      );
      expect(scaled?.spec.scaleTargetRef?.kind).toBe(m.kind);
      expect(scaled?.spec.triggers?.[0]).toMatchObject({
        type: 'nats-jetstream',
        metadata: { stream: 'CV_DISPATCH', consumer: dispatchConsumerName(pool) },
      });
    }
  });
});
