import { QueueProducer } from '@berth/queue';
import { readiness } from '@berth/platform';
import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { pingDatabase } from '@berth/data';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { ApiErrors } from '../common/api-errors';
import { ApiMetrics } from '../metrics/api-metrics';

class HealthView {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
}

class ReadyView {
  @ApiProperty({ enum: ['ready', 'not ready'] }) status!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { database: 'ok', redis: 'ok' },
    description: 'Each dependency: ok, or why it does not answer',
  })
  checks!: Record<string, string>;
}

/** Liveness, readiness and metrics of the API process. */
@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly producer: QueueProducer,
    private readonly apiMetrics: ApiMetrics,
  ) {}

  @Get('healthz')
  @Policy('health:get')
  @ApiOperation({ summary: 'Liveness' })
  @ApiOkResponse({ description: 'The API process is up', type: HealthView })
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  @Policy('health:get')
  @ApiOperation({ summary: 'Readiness: the database and Redis answer' })
  @ApiOkResponse({ description: 'The database and Redis answer', type: ReadyView })
  @ApiServiceUnavailableResponse({
    description: 'A dependency does not answer; checks name it and why',
    type: ReadyView,
  })
  async readyz(
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ status: string; checks: Record<string, string> }> {
    const checks = await readiness({
      database: () => pingDatabase(this.dataSource.manager),
      redis: () => this.producer.ping(),
    });
    const ready = Object.values(checks).every((c) => c === 'ok');
    void reply.status(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not ready', checks };
  }

  @Get('metrics')
  @Policy('metrics:get')
  @Header('cache-control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics (text format 0.0.4); scrape with an admin token' })
  @ApiOkResponse({ description: 'The metrics, as text' })
  @ApiErrors(401, 403)
  async metrics(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    void reply.header('content-type', this.apiMetrics.contentType);
    return this.apiMetrics.text();
  }
}
