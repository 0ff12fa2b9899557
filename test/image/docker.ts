/**
 * Docker for the image tests: build a Dockerfile target, and run an image exactly as a rendered
 * Deployment's pod runs it (user, read-only root, capabilities, emptyDir volumes, memory limit,
 * literal env, args, grace period). Containers use the host network (no bridge on these machines).
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { repoRoot } from '../support/run-kurier.js';

const exec = promisify(execFile);
export const DOCKER = process.env['DOCKER'] ?? 'docker';

/** Runs docker and returns its stdout; throws with stderr on failure. */
export async function docker(args: readonly string[], timeoutMs = 60_000): Promise<string> {
  const { stdout } = await exec(DOCKER, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

export interface BuildResult {
  readonly code: number | null;
  readonly output: string;
  readonly seconds: number;
}

/** `docker build --target <target>` from the repository's Dockerfile, unchanged, with the classic builder. */
export function buildTarget(target: string, tag: string, extraArgs: readonly string[] = []): Promise<BuildResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(DOCKER, ['build', '--network', 'host', '--target', target, '-t', tag, ...extraArgs, '.'], {
      cwd: repoRoot,
      env: { ...process.env, DOCKER_BUILDKIT: process.env['DOCKER_BUILDKIT'] ?? '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => { resolve({ code, output, seconds: (Date.now() - started) / 1000 }); });
  });
}

/** Megabytes of an image as `docker image inspect` reports its size. */
export async function imageSizeMb(tag: string): Promise<number> {
  return Math.round(Number((await docker(['image', 'inspect', '--format', '{{.Size}}', tag])).trim()) / 1e6);
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; runAsUser?: number; runAsGroup?: number; capabilities?: { drop?: string[]; add?: string[] } };
  resources?: { limits?: { memory?: string } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

interface PodSpec {
  securityContext?: { runAsUser?: number; runAsGroup?: number };
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  containers: Container[];
  volumes?: { name: string; emptyDir?: { sizeLimit?: string }; configMap?: unknown }[];
}

/** `256Mi` → `256m` (docker's binary megabytes), `1Gi` → `1024m`. */
function dockerBytes(quantity: string): string {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (match === null) throw new Error(`unsupported quantity ${quantity}`);
  const value = Number(match[1]);
  return `${String(match[2] === 'Gi' ? value * 1024 : value)}m`;
}

/**
 * The `docker run` flags that reproduce the pod's container `name`: the kubelet's user, groups,
 * read-only root, dropped capabilities, no privilege escalation, emptyDir volumes (tmpfs, with their
 * size limit), the memory limit, the literal environment and the args. `hostPaths` provides the
 * other volumes (the kubelet's ConfigMap mounts) as host folders. Refuses what it cannot reproduce.
 */
export function runFlags(pod: PodSpec, containerName: string, hostPaths: Readonly<Record<string, string>> = {}): { flags: string[]; image: string; args: string[]; graceSeconds: number } {
  const container = pod.containers.find((c) => c.name === containerName);
  if (container === undefined) throw new Error(`no container ${containerName}`);
  const security = container.securityContext ?? {};
  const user = security.runAsUser ?? pod.securityContext?.runAsUser;
  const group = security.runAsGroup ?? pod.securityContext?.runAsGroup;
  if (user === undefined || user === 0) throw new Error('the pod must run as a non-root user');
  const flags = ['--network', 'host', '--user', `${String(user)}:${String(group ?? user)}`];
  if (security.readOnlyRootFilesystem === true) flags.push('--read-only');
  for (const cap of security.capabilities?.drop ?? []) flags.push('--cap-drop', cap);
  for (const cap of security.capabilities?.add ?? []) flags.push('--cap-add', cap);
  if (security.allowPrivilegeEscalation === false) flags.push('--security-opt', 'no-new-privileges');
  const memory = container.resources?.limits?.memory;
  if (memory !== undefined) flags.push('--memory', dockerBytes(memory), '--memory-swap', dockerBytes(memory));
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    const hostPath = hostPaths[mount.name];
    if (volume?.emptyDir !== undefined) {
      const size = volume.emptyDir.sizeLimit === undefined ? '' : `,size=${dockerBytes(volume.emptyDir.sizeLimit)}`;
      flags.push('--tmpfs', `${mount.mountPath}:rw,mode=1777${size}`);
    } else if (hostPath !== undefined) {
      flags.push('-v', `${hostPath}:${mount.mountPath}${mount.readOnly === true ? ':ro' : ''}`);
    } else throw new Error(`volume ${mount.name}: give its host folder`);
  }
  for (const variable of container.env ?? []) {
    if (variable.value === undefined) throw new Error(`${variable.name} is not a literal value; this test resolves no Secrets or fields`);
    flags.push('-e', `${variable.name}=${variable.value}`);
  }
  const graceSeconds = pod.terminationGracePeriodSeconds ?? 30;
  flags.push('--stop-timeout', String(graceSeconds));
  return { flags, image: container.image, args: container.args ?? [], graceSeconds };
}

/** Reads the container's process 1 as the kernel sees it: uid, gid and effective capabilities. */
export async function processIdentity(container: string): Promise<{ uid: string; gid: string; capEff: string }> {
  const status = await docker(['exec', container, '/nodejs/bin/node', '-e', 'process.stdout.write(require("fs").readFileSync("/proc/1/status","utf8"))']);
  const field = (name: string): string => new RegExp(`^${name}:\\s+(\\S+)`, 'm').exec(status)?.[1] ?? '';
  return { uid: field('Uid'), gid: field('Gid'), capEff: field('CapEff') };
}

/** Peak resident memory of the container's process 1 (VmHWM), in MiB. */
export async function peakRssMib(container: string): Promise<number> {
  const status = await docker(['exec', container, '/nodejs/bin/node', '-e', 'process.stdout.write(require("fs").readFileSync("/proc/1/status","utf8"))']);
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 1024);
}
