import { changeMetadata } from '@berth/control';
import { BerthError, checkMetadata, type Metadata } from '@berth/domain';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { actorOf, CurrentPrincipal, CurrentRequestId, projectScope, type Principal } from '../auth/principal';
import { InstancesService } from '../instances/instances.service';
import { at, refuseField } from './os-body';
import { OsIdPipe } from './os-id.pipe';

/** The pairs a body gives under `key` ("metadata" or "meta"), checked; a 400 names what is wrong. */
function pairsOf(body: unknown, key: 'metadata' | 'meta'): Metadata {
  const checked = checkMetadata(at(body, key), key);
  if (!checked.ok) throw BerthError.invalid(checked.errors);
  return checked.value;
}

/** Nova's server metadata: the tenant's own key-value pairs on a server, set at create and changed here. */
@ApiExcludeController()
@Controller('compute/v2.1/servers/:id/metadata')
export class ServerMetadataController {
  constructor(
    private readonly instances: InstancesService,
    private readonly dataSource: DataSource,
  ) {}

  @Get()
  @Policy('instance:get')
  async list(@Param('id', new OsIdPipe('server')) id: string, @CurrentPrincipal() principal: Principal) {
    return { metadata: (await this.instances.get(id, projectScope(principal))).metadata };
  }

  /** Adds or changes the pairs given; the others stay. */
  @Post()
  @Policy('instance:action')
  @HttpCode(200)
  async update(
    @Param('id', new OsIdPipe('server')) id: string,
    @Body() body: Record<string, unknown>,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ) {
    const given = pairsOf(body, 'metadata');
    return { metadata: await this.change(id, principal, requestId, (current) => ({ ...current, ...given })) };
  }

  /** Replaces every pair with those given. */
  @Put()
  @Policy('instance:action')
  async replace(
    @Param('id', new OsIdPipe('server')) id: string,
    @Body() body: Record<string, unknown>,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ) {
    const given = pairsOf(body, 'metadata');
    return { metadata: await this.change(id, principal, requestId, () => given) };
  }

  @Get(':key')
  @Policy('instance:get')
  async show(
    @Param('id', new OsIdPipe('server')) id: string,
    @Param('key') key: string,
    @CurrentPrincipal() principal: Principal,
  ) {
    const value = (await this.instances.get(id, projectScope(principal))).metadata[key];
    if (value === undefined) throw BerthError.notFound('metadata item', key);
    return { meta: { [key]: value } };
  }

  /** Sets one pair; the body names exactly that key. */
  @Put(':key')
  @Policy('instance:action')
  async set(
    @Param('id', new OsIdPipe('server')) id: string,
    @Param('key') key: string,
    @Body() body: Record<string, unknown>,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ) {
    const given = pairsOf(body, 'meta');
    const keys = Object.keys(given);
    if (keys.length !== 1 || keys[0] !== key) refuseField('meta', 'matchesPath', `must hold exactly the key ${key}`);
    await this.change(id, principal, requestId, (current) => ({ ...current, ...given }));
    return { meta: given };
  }

  @Delete(':key')
  @Policy('instance:action')
  @HttpCode(204)
  async remove(
    @Param('id', new OsIdPipe('server')) id: string,
    @Param('key') key: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    await this.change(id, principal, requestId, (current) => {
      if (!(key in current)) throw BerthError.notFound('metadata item', key);
      return Object.fromEntries(Object.entries(current).filter(([k]) => k !== key));
    });
  }

  private change(id: string, principal: Principal, requestId: string, next: (current: Metadata) => Metadata) {
    return changeMetadata(this.dataSource, id, projectScope(principal), next, actorOf(principal, requestId));
  }
}
