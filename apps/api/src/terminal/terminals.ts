import { recordConsoleClosed, recordConsoleOpened, specOf } from '@berth/control';
import {
  CONTRACT_VERSION,
  computeQueue,
  encodeFrame,
  INSTANCE_TERMINAL,
  terminalChannels,
  type InstanceTerminalCommand,
  type TerminalOpened,
  type TerminalSize,
} from '@berth/contracts';
import type { InstanceRecord } from '@berth/data';
import { BerthError } from '@berth/domain';
import { errorMessage, type Logger } from '@berth/platform';
import { PubSub, QueueProducer } from '@berth/queue';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { WebSocket } from 'ws';
import { actorOf, projectScope, type Principal } from '../auth/principal';
import { TokenWatch } from '../auth/token-watch';
import { LOG } from '../common/log';
import { ApiEnv } from '../config';
import { InstancesService } from '../instances/instances.service';
import { CLOSE_CODES, TerminalSession } from './terminal-session';

/** What the upgrade request established, before the WebSocket exists. */
export interface TerminalRequest {
  principal: Principal;
  instance: InstanceRecord;
  size: TerminalSize;
  requestId: string;
}

/**
 * The interactive consoles this API process relays (ARCHITECTURE.md, "the web console"): checks who may open one
 * (the instance's project's members and the cloud admin; a running instance), asks the instance's host to open its
 * terminal, relays the session over Redis pub/sub, records it in the audit trail, and ends it when its token is
 * revoked or expires.
 */
@Injectable()
export class Terminals implements OnApplicationShutdown {
  private readonly sessions = new Set<TerminalSession>();
  private readonly bus: PubSub;

  constructor(
    private readonly env: ApiEnv,
    private readonly instances: InstancesService,
    private readonly producer: QueueProducer,
    private readonly dataSource: DataSource,
    private readonly tokens: TokenWatch,
    @Inject(LOG) private readonly log: Logger,
  ) {
    this.bus = new PubSub(env.BERTH_REDIS_URL, log);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** The checks of an upgrade request, before anything is opened: 404, 409 (not running), else what to open. */
  async check(
    principal: Principal,
    instanceId: string,
    size: TerminalSize,
    requestId: string,
  ): Promise<TerminalRequest> {
    const instance = await this.instances.get(instanceId, projectScope(principal));
    if (!instance.hostName || instance.powerState !== 'RUNNING') {
      throw BerthError.conflict(
        `instance ${instance.id} is not running (status ${instance.status}), so it has no console to open`,
        'id',
        'running',
      );
    }
    return { principal, instance, size, requestId };
  }

  /** Serves one WebSocket until its session ends. */
  async serve(socket: WebSocket, request: TerminalRequest): Promise<void> {
    const { instance, principal } = request;
    const hostName = instance.hostName ?? '';
    const sessionId = randomUUID();
    const { input, output } = terminalChannels(this.env.BERTH_QUEUE_PREFIX, hostName, sessionId);
    const startedAt = new Date();
    let operationId: string | null = null;
    let stopWatching = () => undefined as void;
    let unsubscribe: () => Promise<void> = () => Promise.resolve();
    const session = new TerminalSession(
      socket,
      { publish: (frame) => void this.bus.publish(input, encodeFrame(frame)).catch(() => undefined) },
      (reason) => {
        this.sessions.delete(session);
        stopWatching();
        void unsubscribe();
        if (operationId) void this.closed(operationId, reason, session.bytes);
      },
    );
    this.sessions.add(session);
    stopWatching = this.watchToken(principal, session);
    try {
      unsubscribe = await this.bus.subscribe(output, (message) => session.fromHost(message));
      // The viewer left while the output was being subscribed: nothing was asked of the host yet.
      if (session.endedWith !== null) return await unsubscribe();
      await this.relay(session, request, sessionId, startedAt, (id) => (operationId = id));
    } catch (error) {
      // Redis or PostgreSQL failed under it: the session ends, and with it everything it held.
      session.close(1011, 'the console session failed');
      throw error;
    }
  }

  /** Asks the host to open the terminal, records the session, and tells the viewer (or the host, if it left). */
  private async relay(
    session: TerminalSession,
    request: TerminalRequest,
    sessionId: string,
    startedAt: Date,
    recorded: (operationId: string) => void,
  ): Promise<void> {
    const { instance, principal } = request;
    const answer = await this.open(instance, sessionId, request.size);
    const actor = actorOf(principal, request.requestId);
    if (answer.opened) {
      const operationId = await recordConsoleOpened(this.dataSource, actor, instance.id, startedAt, {
        kind: answer.kind,
      });
      recorded(operationId);
      if (session.endedWith === null) return session.opened(answer.kind);
      // The viewer left while the host was opening it: the host hears the hang-up now that it listens.
      const { input } = terminalChannels(this.env.BERTH_QUEUE_PREFIX, instance.hostName ?? '', sessionId);
      void this.bus.publish(input, encodeFrame({ type: 'close' })).catch(() => undefined);
      return this.closed(operationId, session.endedWith, session.bytes);
    }
    const fault = { step: 'open', message: answer.message, at: new Date().toISOString() };
    await recordConsoleOpened(this.dataSource, actor, instance.id, startedAt, { fault });
    session.close(answer.rule === 'unavailable' ? CLOSE_CODES.unavailable : CLOSE_CODES.refused, answer.message);
  }

  /** Closes every session (the API stops). */
  onApplicationShutdown(): void {
    for (const session of [...this.sessions]) session.close(1001, 'the API is shutting down');
    this.bus.close();
  }

  /** Asks the host to open the terminal; a host that does not answer is `unavailable`. */
  private async open(
    instance: InstanceRecord,
    sessionId: string,
    size: TerminalSize,
  ): Promise<TerminalOpened | { opened: false; rule: 'unavailable'; message: string }> {
    const command: InstanceTerminalCommand = {
      v: CONTRACT_VERSION,
      type: 'instance.terminal',
      instance: specOf(instance),
      sessionId,
      size,
    };
    const hostName = instance.hostName ?? '';
    try {
      return await this.producer.request<TerminalOpened>(
        computeQueue(hostName),
        INSTANCE_TERMINAL,
        command,
        this.env.BERTH_CONSOLE_TIMEOUT_MS,
      );
    } catch (error) {
      const timedOut = errorMessage(error).startsWith('Job wait');
      return {
        opened: false,
        rule: 'unavailable',
        message: timedOut
          ? `host ${hostName} did not open the console within ${this.env.BERTH_CONSOLE_TIMEOUT_MS} ms`
          : `host ${hostName} could not open the console: ${errorMessage(error)}`,
      };
    }
  }

  /** Ends the session when its token is revoked, or when it expires (to the second, not at the next check). */
  private watchToken(principal: Principal, session: TerminalSession): () => void {
    const end = () => session.close(CLOSE_CODES.tokenEnded, 'the token was revoked or expired');
    const unwatch = this.tokens.watch(principal.tokenId, end);
    const left = principal.expiresAt ? principal.expiresAt.getTime() - Date.now() : null;
    // setTimeout holds at most 24.8 days; a later expiry is left to the watch's periodic check.
    const timer = left !== null && left < 2 ** 31 - 1 ? setTimeout(end, Math.max(0, left)) : null;
    return () => {
      unwatch();
      if (timer) clearTimeout(timer);
    };
  }

  private async closed(operationId: string, reason: string, bytes: { input: number; output: number }): Promise<void> {
    await recordConsoleClosed(this.dataSource, operationId, reason, bytes).catch((error: unknown) => {
      this.log.warn({ operationId, err: errorMessage(error) }, 'console session end not recorded');
    });
  }
}
