import { ERROR_CODES, QUOTA_RESOURCES } from '@berth/domain';
import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';

class ErrorDetail {
  @ApiProperty({ example: 'vlan' }) field!: string;
  @ApiProperty({ example: 'max', description: 'The rule the field broke' }) rule!: string;
  @ApiProperty({ example: 'vlan must not be greater than 4094' }) message!: string;
}

class QuotaExcessView {
  @ApiProperty({ enum: QUOTA_RESOURCES }) resource!: string;
  @ApiProperty({ description: '-1: unlimited' }) limit!: number;
  @ApiProperty() used!: number;
  @ApiProperty() requested!: number;
}

class ErrorContent {
  @ApiProperty({ enum: [...ERROR_CODES, 'internal'] }) code!: string;
  @ApiProperty() message!: string;
  @ApiProperty({ type: [ErrorDetail] }) details!: ErrorDetail[];
  @ApiPropertyOptional({ type: [QuotaExcessView], description: 'With code quota_exceeded' }) quota?: QuotaExcessView[];
}

/** The body of every 4xx and 5xx answer. */
export class ErrorView {
  @ApiProperty({ type: ErrorContent }) error!: ErrorContent;
  @ApiProperty({ description: 'Also in the x-request-id header' }) requestId!: string;
}

const WHEN: Record<number, string> = {
  400: 'A field broke a rule; details name each field and rule. Nothing was changed.',
  401: 'No valid bearer token.',
  403: 'The token may not do this (code forbidden), or the project is over quota (code quota_exceeded).',
  404: 'No such resource (or not visible to this token); for a referenced resource, details name the field.',
  409: 'Conflicts with the current state (duplicate name, address in use, instance busy). Nothing was changed.',
  410: 'The resume point (Last-Event-ID) is older than the event history kept; reconnect without it.',
  413: 'The request body is larger than 256 KiB.',
  414: 'A path parameter is longer than 1024 characters.',
  503: "The instance's host did not answer in time; nothing was changed, try again.",
};

/** Documents the error answers an endpoint can give, all with the same body. */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) => ApiResponse({ status, type: ErrorView, description: WHEN[status] })),
  );
}
