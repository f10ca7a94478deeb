import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { Service } from 'kubernetes-models/v1/Service';
import { parseConfigText } from '../../src/adapters/configFile';
import type { Config } from '../../src/config';
import { writeConfigMapVolume } from '../helpers/configMapVolume';
import { expectConfig } from '../helpers/configResult';
import {
  checkConfigFile,
  dockerfileFacts,
  REPOSITORY,
  yamlDocuments,
} from '../helpers/deployFiles';

const FOLDER = 'deploy/kubernetes';

type Manifest = ConfigMap | Deployment | Service | PodDisruptionBudget | HorizontalPodAutoscaler;

/** The model of a document, whose validate() checks it against the Kubernetes 1.33 schema. */
function modelOf(document: unknown): Manifest {
  if (ConfigMap.is(document)) return new ConfigMap(document);
  if (Deployment.is(document)) return new Deployment(document);
  if (Service.is(document)) return new Service(document);
  if (PodDisruptionBudget.is(document)) return new PodDisruptionBudget(document);
  if (HorizontalPodAutoscaler.is(document)) return new HorizontalPodAutoscaler(document);
  throw new Error(`no schema here for ${JSON.stringify(document).slice(0, 80)}`);
}

const manifestFiles = readdirSync(join(REPOSITORY, FOLDER))
  .filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml')
  .sort();

const manifests = manifestFiles.flatMap((name) =>
  yamlDocuments(posix.join(FOLDER, name)).map(modelOf),
);

/** The one manifest of a kind. */
function only<T extends Manifest>(guard: (m: Manifest) => m is T): T {
  const found = manifests.filter(guard);
  if (found.length !== 1) throw new Error(`expected one, found ${found.length}`);
  return found[0] as T;
}

const deployment = only((m): m is Deployment => m instanceof Deployment);
const configMap = only((m): m is ConfigMap => m instanceof ConfigMap);
const service = only((m): m is Service => m instanceof Service);
const budget = only((m): m is PodDisruptionBudget => m instanceof PodDisruptionBudget);
const autoscaler = only((m): m is HorizontalPodAutoscaler => m instanceof HorizontalPodAutoscaler);

const podSpec = deployment.spec?.template.spec;
const podLabels = deployment.spec?.template.metadata?.labels ?? {};
const container: IContainer = podSpec?.containers.find((c) => c.name === 'rxproxy') ?? {
  name: 'missing',
};

/** The number of a container port given by number or by name. */
function portNumber(port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** The configuration file: where the Deployment mounts the ConfigMap and which key it reads. */
function configFile(): { mountPath: string; key: string; path: string } {
  const path = container.env?.find((e) => e.name === 'RXPROXY_CONFIG')?.value ?? '';
  const volume = podSpec?.volumes?.find((v) => v.configMap?.name === configMap.metadata?.name);
  const mount = container.volumeMounts?.find((m) => m.name === volume?.name);
  return { mountPath: mount?.mountPath ?? '', key: posix.basename(path), path };
}

/** The INI text of the ConfigMap key the proxy reads. */
function iniText(): string {
  const text = configMap.data?.[configFile().key];
  if (text === undefined) throw new Error(`the ConfigMap has no key ${configFile().key}`);
  return text;
}

/** The configuration as the proxy builds it, with no environment variable set. */
const config = (): Config => expectConfig(parseConfigText(iniText(), configFile().path, {}));

/** Seconds the preStop hook waits: `exec: sleep N` or the built-in `sleep` action. */
function preStopSeconds(): number {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep) return preStop.sleep.seconds;
  const [command, seconds] = preStop?.exec?.command ?? [];
  if (command !== 'sleep' || seconds === undefined) throw new Error('no preStop sleep');
  return Number(seconds);
}

describe('deploy/kubernetes', () => {
  it.each(manifestFiles)('%s passes the Kubernetes 1.33 schema', (name) => {
    for (const document of yamlDocuments(posix.join(FOLDER, name))) {
      expect(() => modelOf(document).validate()).not.toThrow();
    }
  });

  it('the schema check finds a wrong field type', () => {
    const [broken] = yamlDocuments(posix.join(FOLDER, 'deployment.yaml'));
    if (!Deployment.is(broken)) throw new Error('deployment.yaml holds no Deployment');
    const firstPort = broken.spec?.template.spec?.containers[0]?.ports?.[0];
    if (firstPort === undefined) throw new Error('no container port');
    Object.assign(firstPort, { containerPort: 'eight thousand' });
    expect(() => new Deployment(broken).validate()).toThrow(/containerPort must be integer/);
  });

  it('kustomization.yaml names every manifest but the example autoscaler', () => {
    const [kustomization] = yamlDocuments(posix.join(FOLDER, 'kustomization.yaml'));
    expect(kustomization).toMatchObject({ kind: 'Kustomization' });
    const { resources } = kustomization as { resources: string[] };
    expect([...resources].sort()).toEqual(
      manifestFiles.filter((name) => name !== 'horizontalpodautoscaler.yaml'),
    );
  });

  it('the ConfigMap holds a valid file with watch_config on', async () => {
    expect(config().frontend.watchConfig).toBe(true);
    const folder = mkdtempSync(join(tmpdir(), 'rxproxy-configmap-'));
    try {
      writeConfigMapVolume(folder, { [configFile().key]: iniText() });
      const checked = await checkConfigFile(join(folder, configFile().key));
      expect(checked.err).toBe('');
      expect(checked.code).toBe(0);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('mounts the ConfigMap as a folder, where the image looks for its configuration', () => {
    const { mountPath, key, path } = configFile();
    expect(path).toBe(posix.join(mountPath, key));
    expect(container.volumeMounts?.some((m) => m.subPath !== undefined)).toBe(false);
    expect(container.volumeMounts?.some((m) => m.subPathExpr !== undefined)).toBe(false);
    expect(mountPath).toBe(dirname(dockerfileFacts().configPath));
  });

  it('runs as the image user, not root, on a read-only root filesystem', () => {
    expect(dockerfileFacts().user).toBe('node');
    // The node images' "node" user.
    expect(podSpec?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('requests CPU and memory', () => {
    expect(container.resources?.requests?.cpu).toBeDefined();
    expect(container.resources?.requests?.memory).toBeDefined();
  });

  it('probes /readyz and /livez on the admin listener of the ConfigMap', () => {
    const { admin } = config();
    expect(admin.host).toBe('0.0.0.0');
    expect(admin.port).toBeDefined();
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(portNumber(container.readinessProbe?.httpGet?.port)).toBe(admin.port);
    expect(container.livenessProbe?.httpGet?.path).toBe('/livez');
    expect(portNumber(container.livenessProbe?.httpGet?.port)).toBe(admin.port);
  });

  it('serves the front door of the ConfigMap on the image port, behind the Service', () => {
    const { frontend } = config();
    expect(frontend.host).toBe('0.0.0.0');
    expect(frontend.port).toBe(dockerfileFacts().exposed);
    expect(portNumber('http')).toBe(frontend.port);
    expect(service.spec?.ports?.map((p) => portNumber(p.targetPort))).toEqual([frontend.port]);
  });

  it('gives the drain its time: grace period > preStop + shutdown_delay + drain_timeout', () => {
    const { shutdownDelayMs, drainTimeoutMs } = config().frontend;
    expect(shutdownDelayMs).toBeGreaterThan(0);
    const needed = preStopSeconds() + (shutdownDelayMs + drainTimeoutMs) / 1000;
    expect(podSpec?.terminationGracePeriodSeconds).toBeGreaterThan(needed);
  });

  it('selects the pods of the Deployment from the Service, the budget and the autoscaler', () => {
    expect(deployment.spec?.selector.matchLabels).toEqual(podLabels);
    expect(service.spec?.selector).toEqual(podLabels);
    expect(budget.spec?.selector?.matchLabels).toEqual(podLabels);
    expect(autoscaler.spec?.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: deployment.metadata?.name,
    });
    expect(autoscaler.spec?.minReplicas).toBeGreaterThanOrEqual(2);
  });

  it('docs/deploying.md tells the shutdown timing and the requests of the manifests', () => {
    const doc = readFileSync(join(REPOSITORY, 'docs', 'deploying.md'), 'utf8');
    const { shutdownDelayMs, drainTimeoutMs } = config().frontend;
    expect(doc).toContain(`\`preStop\` runs \`sleep ${preStopSeconds()}\``);
    expect(doc).toContain(`\`shutdown_delay\` (${shutdownDelayMs / 1000} s)`);
    expect(doc).toContain(`\`drain_timeout\` (${drainTimeoutMs / 1000} s)`);
    expect(doc).toContain(`| ${podSpec?.terminationGracePeriodSeconds} s `);
    expect(doc).toContain(`Requests of ${container.resources?.requests?.cpu} CPU`);
  });

  it('keeps a replica serving through voluntary disruptions and rolling updates', () => {
    expect(deployment.spec?.replicas).toBeGreaterThanOrEqual(2);
    expect(budget.spec?.maxUnavailable).toBe(1);
    expect(deployment.spec?.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
  });
});
