import { QueueProducer } from '@berth/queue';
import { readiness } from '@berth/platform';
import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { ApiErrors } from '../common/api-errors';
import { ApiMetrics } from '../metrics/api-metrics';

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
  @ApiOkResponse({ description: 'The API process is up' })
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  @Policy('health:get')
  @ApiOperation({ summary: 'Readiness: the database and Redis answer' })
  @ApiOkResponse({ description: '{status: "ready", checks: {database: "ok", redis: "ok"}}' })
  @ApiServiceUnavailableResponse({ description: 'A dependency does not answer; checks name it and why' })
  async readyz(
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ status: string; checks: Record<string, string> }> {
    const checks = await readiness({
      database: () => this.dataSource.query('SELECT 1'),
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
