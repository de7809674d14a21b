/**
 * @module container-spec
 * Merges feature contributions, in feature order, into the task container's spec. Variables go
 * feature env < task env (payload.env + decrypted) < reserved env.
 */
import type { ContainerSpec } from './docker/docker-client.js';
import { internalError, malformedPayload } from './errors.js';
import type { Contribution } from './features/feature.js';

export class SpecBuilder {
  private env: Record<string, string> = {};
  private taskEnv: Record<string, string> = {};
  private reservedEnv: Record<string, string> = {};
  private binds: string[] = [];
  private devices: string[] = [];
  private capAdd: string[] = [];
  private extraHosts: string[] = [];
  private securityOpt: string[] = [];
  private cpusetCpus: string | undefined;
  private privileged = false;
  private image: string | undefined;
  private cmd: string[] | undefined;

  merge(c: Contribution | void): void {
    if (!c) return;
    Object.assign(this.env, c.env);
    Object.assign(this.taskEnv, c.taskEnv);
    Object.assign(this.reservedEnv, c.reservedEnv);
    this.binds.push(...(c.binds ?? []));
    this.devices.push(...(c.devices ?? []));
    this.capAdd.push(...(c.capAdd ?? []));
    this.extraHosts.push(...(c.extraHosts ?? []));
    this.securityOpt.push(...(c.securityOpt ?? []));
    this.cpusetCpus = c.cpusetCpus ?? this.cpusetCpus;
    this.privileged ||= c.privileged ?? false;
    this.image = c.image ?? this.image;
    this.cmd = c.cmd ?? this.cmd;
  }

  /**
   * The final spec. The task container never gets the Docker socket and joins only its own
   * network; as the last docker-worker, `localhost.localdomain` resolves to 127.0.0.1 in it.
   */
  build(
    base: { labels: Record<string, string>; network: string; name?: string } & Pick<
      ContainerSpec,
      'securityOpt' | 'pidsLimit' | 'memoryBytes' | 'shmSize' | 'tty'
    >,
  ): ContainerSpec {
    if (!this.image) throw internalError('no feature resolved an image for the task container');
    for (const bind of this.binds) {
      if (/docker\.sock/.test(bind.split(':')[0] ?? ''))
        throw malformedPayload('the task container may not mount the Docker socket');
    }
    return {
      ...base,
      image: this.image,
      cmd: this.cmd,
      env: { ...this.env, ...this.taskEnv, ...this.reservedEnv },
      binds: [...this.binds],
      devices: [...this.devices],
      capAdd: [...this.capAdd],
      extraHosts: ['localhost.localdomain:127.0.0.1', ...this.extraHosts],
      privileged: this.privileged,
      securityOpt: [...(base.securityOpt ?? []), ...this.securityOpt],
      ...(this.cpusetCpus !== undefined ? { cpusetCpus: this.cpusetCpus } : {}),
    };
  }
}
