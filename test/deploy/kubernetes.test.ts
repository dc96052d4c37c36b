import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { runCheck } from '../../src/commands/check.js';
import { loadConfigFile } from '../../src/config/load.js';
import { ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/proxy.js';

const K8S = path.join(ROOT, 'deploy/kubernetes');
type Doc = Record<string, any>;

function docs(file: string): Doc[] {
  return parseAllDocuments(fs.readFileSync(path.join(K8S, file), 'utf8')).map((d) => d.toJS() as Doc);
}

function one(file: string, kind: string, name?: string): Doc {
  const found = docs(file).filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
  assert.equal(found.length, 1, `${file}: one ${kind} ${name ?? ''}`);
  return found[0]!;
}

/** The ConfigMap's ccrouter.yaml written out as the kubelet would mount it. */
function mountedConfig(): string {
  const file = path.join(tempDir('ccrouter-k8s-'), 'ccrouter.yaml');
  fs.writeFileSync(file, one('configmap.yaml', 'ConfigMap', 'ccrouter-config').data['ccrouter.yaml']);
  return file;
}

const deployment = () => one('deployment.yaml', 'Deployment', 'ccrouter');
const container = () => deployment().spec.template.spec.containers[0];

test('the ConfigMap holds a config that passes ccrouter check', async () => {
  let out = '';
  let err = '';
  const code = await runCheck(['--config', mountedConfig()], { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env: {} });
  assert.equal(code, 0, err);
  assert.match(out, /\bid\b.*[0-9a-f]{12}/s);
});

test('the Deployment matches its config: ports, probes on the admin port, the drain delay within the termination grace', () => {
  const { config } = loadConfigFile(mountedConfig(), {});
  const d = deployment();
  assert.equal(d.spec.replicas, 3);
  const c = container();
  const port = (name: string) => c.ports.find((p: Doc) => p.name === name)?.containerPort;
  assert.equal(port('http'), config.listen.port);
  assert.equal(port('admin'), config.admin.port);
  assert.equal(config.admin.host, '0.0.0.0', 'the kubelet probes the pod IP');
  assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'admin' });
  assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'admin' });
  assert.deepEqual(c.startupProbe.httpGet, { path: '/healthz', port: 'admin' });
  assert.equal(d.spec.template.metadata.annotations['prometheus.io/port'], String(config.admin.port));

  // SIGTERM → shutdownDelayMs of serving → at most shutdownGraceMs of drain → flush; SIGKILL comes
  // at terminationGracePeriodSeconds.
  assert.ok(config.shutdownDelayMs >= 5000, 'long enough for kube-proxy and load balancers to stop sending');
  const graceMs = d.spec.template.spec.terminationGracePeriodSeconds * 1000;
  assert.ok(graceMs >= config.shutdownDelayMs + config.shutdownGraceMs + 5000, `${graceMs} ms must cover delay + grace + flush`);

  // The config volume is a directory mount (a subPath never receives the kubelet's updates), and
  // --config points into it; logging.dir is the logs volume, one directory per pod.
  const mounts = new Map<string, Doc>(c.volumeMounts.map((m: Doc) => [m.name, m]));
  const configArg = c.args[c.args.indexOf('--config') + 1];
  assert.equal(path.posix.dirname(configArg), mounts.get('config')!.mountPath);
  assert.equal(mounts.get('config')!.subPath, undefined);
  assert.equal(mounts.get('logs')!.mountPath, config.logging.dir);
  assert.equal(mounts.get('logs')!.subPathExpr, '$(POD_NAME)');
  const volumes = new Map<string, Doc>(d.spec.template.spec.volumes.map((v: Doc) => [v.name, v]));
  assert.equal(volumes.get('config')!.configMap.name, 'ccrouter-config');
  assert.equal(volumes.get('logs')!.persistentVolumeClaim.claimName, one('logs-pvc.yaml', 'PersistentVolumeClaim').metadata.name);
  assert.ok(c.env.some((e: Doc) => e.name === config.admin.tokenEnv && e.valueFrom.secretKeyRef), 'the admin token from a Secret');
  assert.ok(c.resources.requests.cpu && c.resources.requests.memory);
});

test('Services, PodMonitor and the pod template agree on selectors and port names', () => {
  const labels = deployment().spec.template.metadata.labels;
  const portNames = new Set(container().ports.map((p: Doc) => p.name));
  for (const s of docs('service.yaml')) {
    assert.deepEqual(s.spec.selector, labels, s.metadata.name);
    for (const p of s.spec.ports) assert.ok(portNames.has(p.targetPort), `${s.metadata.name}: ${p.targetPort}`);
  }
  const pm = one('monitoring/podmonitor.yaml', 'PodMonitor');
  assert.deepEqual(pm.spec.selector.matchLabels, labels);
  assert.ok(pm.spec.podMetricsEndpoints.every((e: Doc) => portNames.has(e.port) && e.path === '/metrics'));
  const kustomized = parse(fs.readFileSync(path.join(K8S, 'kustomization.yaml'), 'utf8')) as Doc;
  for (const f of kustomized.resources) assert.ok(fs.existsSync(path.join(K8S, f)), f);
});

test('the PrometheusRule carries exactly the fleet rules of deploy/prometheus', () => {
  const rule = one('monitoring/prometheusrule.yaml', 'PrometheusRule');
  const rules = parse(fs.readFileSync(path.join(ROOT, 'deploy/prometheus/ccrouter-rules.yml'), 'utf8')) as Doc;
  assert.deepEqual(rule.spec, rules);
});

const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => fs.existsSync(p));
test('kubectl kustomize renders both kustomizations', { skip: KUBECTL === undefined ? 'kubectl is not installed: rendering not checked' : false }, () => {
  for (const dir of ['', 'monitoring']) {
    const r = spawnSync(KUBECTL!, ['kustomize', path.join(K8S, dir)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(parseAllDocuments(r.stdout).length >= 2);
  }
});
