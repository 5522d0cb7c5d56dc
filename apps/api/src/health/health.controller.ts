import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags, ApiOperation } from '@nestjs/swagger';
import { Public } from '../auth/principal';

/** Liveness: the process answers. */
@ApiTags('health')
@Controller()
export class HealthController {
  @Public()
  @Get('healthz')
  @ApiOperation({ summary: 'Liveness' })
  @ApiOkResponse({ description: 'The API process is up' })
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
