import { sameEndpoint, type PoolConfig, type ServerCommand, type ServerConfig } from './config';

/** How the members of one pool are made, changed and ended; the composition root supplies it. */
export interface MemberLifecycle<M> {
  create(server: ServerConfig, pool: PoolConfig): M;
  update(member: M, server: ServerConfig, pool: PoolConfig): void;
  /**
   * Lets a removed member finish its work; calls `done` when it has (or its time is up). The
   * returned function cancels the drain: the member is taken back.
   */
  drain(member: M, done: () => void): () => void;
  destroy(member: M): void;
}

interface Draining<M> {
  readonly name: string;
  readonly server: ServerConfig;
  readonly member: M;
  cancel: () => void;
}

/**
 * The members of one pool by server name, kept in line with the configuration by add, update
 * and remove commands. A removed member drains before it is destroyed; one added back with the
 * same address (and TLS settings) while it drains is taken back as it is. Several members of one name may drain at
 * once (a name whose address changed, then was removed).
 */
export class ServerSet<M> {
  private readonly active = new Map<string, M>();
  private readonly draining = new Set<Draining<M>>();

  constructor(
    private readonly lifecycle: MemberLifecycle<M>,
    pool: PoolConfig,
  ) {
    for (const server of pool.servers) this.active.set(server.name, lifecycle.create(server, pool));
  }

  get(name: string): M | undefined {
    return this.active.get(name);
  }

  /** Members in rotation's reach, in configuration order. */
  get members(): M[] {
    return [...this.active.values()];
  }

  /** Members still finishing their work after their removal. */
  get drainingMembers(): M[] {
    return [...this.draining].map((draining) => draining.member);
  }

  /** Applies the commands of one pool; `pool` is the pool's new configuration. */
  apply(commands: readonly ServerCommand[], pool: PoolConfig): void {
    for (const command of commands) {
      const name = command.server.name;
      if (command.kind === 'remove') {
        const member = this.active.get(name);
        if (member === undefined) continue;
        this.active.delete(name);
        const draining: Draining<M> = {
          name,
          server: command.server,
          member,
          cancel: () => undefined,
        };
        this.draining.add(draining);
        draining.cancel = this.lifecycle.drain(member, () => this.finish(draining));
      } else if (command.kind === 'add') {
        const draining = this.drainingAs(command.server);
        if (draining) {
          this.draining.delete(draining);
          draining.cancel();
          this.active.set(name, draining.member);
        } else {
          this.active.set(name, this.lifecycle.create(command.server, pool));
        }
      }
    }
    // Changed numbers and pool-wide settings (timeouts) reach every member, in config order.
    const ordered = new Map<string, M>();
    for (const server of pool.servers) {
      const member = this.active.get(server.name);
      if (member === undefined) continue;
      ordered.set(server.name, member);
      this.lifecycle.update(member, server, pool);
    }
    this.active.clear();
    for (const [name, member] of ordered) this.active.set(name, member);
  }

  private drainingAs(server: ServerConfig): Draining<M> | undefined {
    for (const draining of this.draining) {
      if (draining.name === server.name && sameEndpoint(draining.server, server)) return draining;
    }
    return undefined;
  }

  private finish(draining: Draining<M>): void {
    if (!this.draining.delete(draining)) return;
    this.lifecycle.destroy(draining.member);
  }

  /** Destroys every member, draining or not. */
  destroyAll(): void {
    for (const { member, cancel } of this.draining) {
      cancel();
      this.lifecycle.destroy(member);
    }
    this.draining.clear();
    for (const member of this.active.values()) this.lifecycle.destroy(member);
  }
}
