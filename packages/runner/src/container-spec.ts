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
    this.privileged ||= c.privileged ?? false;
    this.image = c.image ?? this.image;
    this.cmd = c.cmd ?? this.cmd;
  }

  /** The final spec. The task container never gets the Docker socket and joins only its own network. */
  build(
    base: { labels: Record<string, string>; network: string; name?: string } & Pick<
      ContainerSpec,
      'securityOpt' | 'pidsLimit' | 'memoryBytes'
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
      extraHosts: [...this.extraHosts],
      privileged: this.privileged,
    };
  }
}
