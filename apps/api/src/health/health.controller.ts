import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags, ApiOperation } from '@nestjs/swagger';
import { Policy } from '../auth/policy';

/** Liveness: the process answers. */
@ApiTags('health')
@Controller()
export class HealthController {
  @Get('healthz')
  @Policy('health:get')
  @ApiOperation({ summary: 'Liveness' })
  @ApiOkResponse({ description: 'The API process is up' })
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
