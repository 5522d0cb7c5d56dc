import type { BerthEvent, EventFilter } from '@berth/data';
import { BerthError, tenantHostId } from '@berth/domain';
import { Controller, Get, Headers, Query, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsOptional, IsUUID, Matches } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal, projectScope, type Principal } from '../auth/principal';
import { Policy } from '../auth/policy';
import { ApiErrors } from '../common/api-errors';
import { EventHub, HistoryGone, type EventSink } from './event-hub';

const RESOURCE_TYPES = ['instance', 'operation', 'host', 'security_group'] as const;
const TYPE_LIST = new RegExp(`^(${RESOURCE_TYPES.join('|')})(,(${RESOURCE_TYPES.join('|')}))*$`);
const SEQ = /^(0|[1-9][0-9]{0,14})$/;
/** A client whose unread events pass this is disconnected; it resumes with Last-Event-ID. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
const KEEPALIVE_MS = 15_000;

export class EventQuery {
  @ApiPropertyOptional({
    example: 'instance,operation',
    description: `Resource types, comma separated: ${RESOURCE_TYPES.join(', ')}`,
  })
  @IsOptional()
  @Matches(TYPE_LIST, { message: `types must be a comma-separated list of: ${RESOURCE_TYPES.join(', ')}` })
  types?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only the events of this instance, operation or host' })
  @IsOptional()
  @IsUUID('all', { message: 'resource must be a UUID' })
  resource?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Admin: one project (no host events). Others always see their own project only',
  })
  @IsOptional()
  @IsUUID('all', { message: 'project must be a UUID' })
  project?: string;

  @ApiPropertyOptional({
    example: '1042',
    description: 'Resume after this event id, for clients that cannot send Last-Event-ID',
  })
  @IsOptional()
  @Matches(SEQ, { message: 'after must be an event id (a whole number)' })
  after?: string;
}

/** Writes the SSE wire format to the raw response, opening it on first use. */
class SseSink implements EventSink {
  private opened = false;
  private keepalive: NodeJS.Timeout | null = null;

  constructor(
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
  ) {}

  get isOpen(): boolean {
    return this.opened;
  }

  open(): void {
    if (this.opened) return;
    this.opened = true;
    this.reply.hijack();
    this.reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': this.request.id,
    });
    this.reply.raw.write('retry: 2000\n\n');
    this.keepalive = setInterval(() => this.reply.raw.write(': keep-alive\n\n'), KEEPALIVE_MS);
    this.reply.raw.on('close', () => this.stopKeepalive());
    // A write racing the client's disconnect is not an error worth a crash; 'close' cleans up.
    this.reply.raw.on('error', () => undefined);
  }

  send(event: BerthEvent): boolean {
    this.open();
    const { seq, type } = event;
    this.reply.raw.write(`id: ${seq}\nevent: ${type}\ndata: ${JSON.stringify(onTheWire(event))}\n\n`);
    return this.reply.raw.writableLength <= MAX_BUFFERED_BYTES;
  }

  close(): void {
    this.stopKeepalive();
    if (this.opened) this.reply.raw.end();
  }

  /** Runs `listener` when the client goes, or now if it already went while history was replayed. */
  onClose(listener: () => void): void {
    if (this.reply.raw.destroyed || this.request.raw.destroyed) {
      this.stopKeepalive();
      listener();
    } else {
      this.reply.raw.on('close', listener);
    }
  }

  private stopKeepalive(): void {
    if (this.keepalive) clearInterval(this.keepalive);
    this.keepalive = null;
  }
}

/** An event as clients get it: an instance's host as its project sees it (InstanceView.hostId), never its row id. */
function onTheWire(event: BerthEvent): BerthEvent {
  const hostId = event.data['hostId'];
  if (event.resource.type !== 'instance' || typeof hostId !== 'string' || event.projectId === null) return event;
  return { ...event, data: { ...event.data, hostId: tenantHostId(event.projectId, hostId) } };
}

/** Live events: instance state, operation progress and host state, as Server-Sent Events. */
@ApiTags('events')
@ApiBearerAuth()
@ApiErrors(401)
@Controller('v1/events')
export class EventsController {
  constructor(private readonly hub: EventHub) {}

  /**
   * Streams events in commit order, each with an id. A client that reconnects with that id in
   * Last-Event-ID (or `after`) gets every event after it first, then the live ones: nothing is
   * missed and nothing repeated. History is kept for BERTH_EVENT_RETENTION_SEC.
   */
  @Get()
  @Policy('event:stream')
  @ApiOperation({
    summary: 'Stream instance, operation and host events (Server-Sent Events), resumable with Last-Event-ID',
  })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this event id' })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description:
      'text/event-stream: `id: <seq>`, `event: <type>` (instance.created|updated|deleted, operation.created|updated|finished, host.created|updated), `data: {seq, type, at, projectId, resource: {type, id}, data}`',
  })
  @ApiErrors(400, 410)
  async stream(
    @Query() query: EventQuery,
    @Headers('last-event-id') lastEventIdHeader: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const field = lastEventIdHeader !== undefined ? 'Last-Event-ID' : 'after';
    const given = lastEventIdHeader ?? query.after;
    if (given !== undefined && !SEQ.test(given)) {
      throw BerthError.invalid([{ field, rule: 'eventId', message: `${field} must be an event id (a whole number)` }]);
    }
    const filter: EventFilter = {
      projectId: projectScope(principal) ?? query.project ?? null,
      resourceId: query.resource?.toLowerCase() ?? null,
      resourceTypes: query.types?.split(',') ?? [],
    };
    const sink = new SseSink(request, reply);
    let unsubscribe: () => void;
    try {
      unsubscribe = await this.hub.subscribe(
        filter,
        given === undefined ? null : Number(given),
        sink,
        principal.tokenId,
      );
    } catch (error) {
      if (sink.isOpen) {
        // Part of the history was already sent: the client resumes from the last id it got.
        sink.close();
        return;
      }
      if (error instanceof HistoryGone) {
        throw BerthError.gone(
          `events up to ${error.horizon} are no longer kept; reconnect without ${field} and reload state`,
          field,
          'retained',
        );
      }
      throw error;
    }
    sink.open();
    sink.onClose(unsubscribe);
  }
}
