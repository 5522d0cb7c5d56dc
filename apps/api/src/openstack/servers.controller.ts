import { NetworkEntity, visibleImage, type Actor, type InstanceRecord } from '@berth/data';
import { BerthError, checkMetadata, isUuid, RESOURCE_NAME, RESOURCE_NAME_RULE, type Metadata } from '@berth/domain';
import { requestSnapshot } from '@berth/control';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { actorOf, CurrentPrincipal, CurrentRequestId, projectScope, type Principal } from '../auth/principal';
import { underNames, validateBuilt } from '../common/validation';
import { ApiEnv } from '../config';
import { CreateInstanceDto } from '../instances/instance.dto';
import { InstancesService } from '../instances/instances.service';
import { arrayAt, at, intAt, objectAt, queryValue, queryValues, refuseField, soleKey, stringAt } from './os-body';
import { publicBase } from './os-http';
import { OsIdPipe } from './os-id.pipe';
import { serverDocument, serverLinks, serverSummary, statusMatches } from './server.views';

/** How Berth's create fields are named in Nova's body, for the errors that name them. */
const NOVA_FIELDS: Record<string, string> = {
  name: 'server.name',
  flavor: 'server.flavorRef',
  image: 'server.imageRef',
  network: 'server.networks',
  minCount: 'server.min_count',
  maxCount: 'server.max_count',
  zone: 'server.availability_zone',
  securityGroups: 'server.security_groups',
  keyName: 'server.key_name',
};

type ListQuery = Record<string, string | string[] | undefined>;

/** The last path segment of a reference Nova accepts as an id or a URL (flavorRef, imageRef). */
const lastSegment = (ref: string) => ref.split('/').pop() ?? ref;

/**
 * Nova v2.1's servers over Berth's instance workflows: the same creates, quotas, tenancy and audit trail as /v1.
 * A server's kind follows its image (a container image builds a container, a VM image a VM), as nova-docker did.
 */
@ApiExcludeController()
@Controller('compute/v2.1/servers')
export class ServersController {
  constructor(
    private readonly instances: InstancesService,
    private readonly dataSource: DataSource,
    private readonly env: ApiEnv,
  ) {}

  private base(request: FastifyRequest): string {
    return publicBase(request, this.env.BERTH_PUBLIC_URL);
  }

  @Get()
  @Policy('instance:list')
  async list(@Query() query: ListQuery, @CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest) {
    const base = this.base(request);
    const { shown, next } = await this.page(query, principal);
    return { servers: shown.map((r) => serverSummary(r, base)), ...this.pageLinks(base, '', query, next) };
  }

  @Get('detail')
  @Policy('instance:list')
  async detail(@Query() query: ListQuery, @CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest) {
    const base = this.base(request);
    const { shown, next } = await this.page(query, principal);
    const admin = projectScope(principal) === null;
    return {
      servers: shown.map((r) => serverDocument(r, base, admin)),
      ...this.pageLinks(base, '/detail', query, next),
    };
  }

  @Get(':id')
  @Policy('instance:get')
  async show(
    @Param('id', new OsIdPipe('server')) id: string,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
  ) {
    const r = await this.instances.get(id, projectScope(principal));
    return { server: serverDocument(r, this.base(request), projectScope(principal) === null) };
  }

  @Post()
  @Policy('instance:create')
  @HttpCode(202)
  async create(
    @Body() body: Record<string, unknown>,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const dto = await this.createRequest(body, principal);
    const [first] = await this.instances.create(dto, principal, actorOf(principal, requestId));
    if (!first) throw new Error('a create made no instance');
    const base = this.base(request);
    void reply.header('location', `${base}/compute/v2.1/servers/${first.instance.id}`);
    return {
      server: {
        id: first.instance.id,
        links: serverLinks(base, first.instance.id),
        'OS-DCF:diskConfig': 'MANUAL',
        security_groups: first.instance.securityGroups.map((g) => ({ name: g.name })),
      },
    };
  }

  @Delete(':id')
  @Policy('instance:delete')
  @HttpCode(204)
  async remove(
    @Param('id', new OsIdPipe('server')) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    await this.instances.request(id, projectScope(principal), 'delete', actorOf(principal, requestId));
  }

  /**
   * One action per request, by its key: os-start, os-stop, reboot, os-getConsoleOutput, createImage (a snapshot),
   * and the moves: resize, confirmResize, revertResize, migrate (an admin's).
   */
  @Post(':id/action')
  @Policy('instance:action')
  async action(
    @Param('id', new OsIdPipe('server')) id: string,
    @Body() body: Record<string, unknown>,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const [name, value] = soleKey(body);
    const scope = projectScope(principal);
    const actor = actorOf(principal, requestId);
    switch (name) {
      case 'os-start':
        await this.instances.request(id, scope, 'start', actor);
        break;
      case 'os-stop':
        await this.instances.request(id, scope, 'stop', actor);
        break;
      case 'reboot': {
        const type = stringAt(body, 'reboot.type', 4, true) ?? 'SOFT';
        if (type !== 'SOFT' && type !== 'HARD') refuseField('reboot.type', 'isIn', 'must be SOFT or HARD');
        await this.instances.request(id, scope, 'reboot', actor);
        break;
      }
      case 'os-getConsoleOutput': {
        const length = value === null ? undefined : intAt(body, 'os-getConsoleOutput.length', 1, 10_000);
        const lines = await this.instances.console(id, scope, length ?? 10_000);
        void reply.status(200);
        return { output: lines.join('\n') };
      }
      case 'resize':
        await this.resize(id, body, principal, actor);
        break;
      case 'createImage': {
        // Nova 2.1 answers 202 with the new image's URL in Location (the client reads the id from it).
        const imageName = stringAt(body, 'createImage.name', 64);
        if (!RESOURCE_NAME.test(imageName)) refuseField('createImage.name', 'matches', `must be ${RESOURCE_NAME_RULE}`);
        const request = { instanceId: id, projectId: scope, name: imageName, actor };
        const { imageId } = await requestSnapshot(this.dataSource, this.env.BERTH_SNAPSHOT_REGISTRY, request);
        void reply.header('location', `${this.base(reply.request)}/image/v2/images/${imageId}`);
        break;
      }
      case 'confirmResize':
      case 'revertResize':
      case 'migrate': {
        if (name === 'migrate' && at(body, 'migrate.host') !== undefined) {
          refuseField(
            'migrate.host',
            'microversion',
            'is offered from compute microversion 2.56; this cloud serves 2.1',
          );
        }
        const action = name === 'migrate' ? 'migrate' : name === 'confirmResize' ? 'confirm' : 'revert';
        await this.instances.requestMigration(id, { action }, principal, actor);
        // Nova answers a confirm with 204, the rest with 202.
        void reply.status(action === 'confirm' ? 204 : 202);
        return undefined;
      }
      default:
        refuseField('body', 'isIn', `names the action ${JSON.stringify(name)}, which Berth does not offer here`);
    }
    void reply.status(202);
    return undefined;
  }

  /**
   * Nova's resize: to another flavor, applied live where the host has room and moved (cold) where it has not; the
   * server then waits in VERIFY_RESIZE until confirmed or reverted.
   */
  private async resize(id: string, body: unknown, principal: Principal, actor: Actor): Promise<void> {
    const flavorRef = lastSegment(stringAt(body, 'resize.flavorRef', 1024));
    const diskConfig = stringAt(body, 'resize.OS-DCF:diskConfig', 6, true);
    if (diskConfig !== undefined && diskConfig !== 'AUTO' && diskConfig !== 'MANUAL') {
      refuseField('resize.OS-DCF:diskConfig', 'isIn', 'must be AUTO or MANUAL');
    }
    const instance = await this.instances.get(id, projectScope(principal));
    if (flavorRef.toLowerCase() === instance.flavorId) {
      refuseField('resize.flavorRef', 'changed', 'names the flavor the server has: a resize must change flavor');
    }
    const dto = { action: 'resize', flavor: flavorRef, allowMove: true, verify: true } as const;
    await underNames({ flavor: 'resize.flavorRef' }, () => this.instances.requestLimits(id, dto, principal, actor));
  }

  /** Berth's create request for a Nova server body. */
  private async createRequest(body: unknown, principal: Principal): Promise<CreateInstanceDto> {
    objectAt(body, 'server');
    const imageRef = lastSegment(stringAt(body, 'server.imageRef', 1024));
    const image = isUuid(imageRef)
      ? await visibleImage(this.dataSource.manager, imageRef.toLowerCase(), true, projectScope(principal))
      : null;
    if (!image) throw BerthError.notFound('image', imageRef, 'server.imageRef');
    const groups = arrayAt(body, 'server.security_groups')?.map((_, i) =>
      stringAt(body, `server.security_groups.${i}.name`, 128),
    );
    const plain = {
      name: stringAt(body, 'server.name', 255),
      kind: image.kind,
      flavor: lastSegment(stringAt(body, 'server.flavorRef', 1024)),
      image: image.id,
      network: await this.networkOf(body),
      minCount: intAt(body, 'server.min_count', 1, 100),
      maxCount: intAt(body, 'server.max_count', 1, 100),
      zone: stringAt(body, 'server.availability_zone', 255, true),
      securityGroups: groups,
      metadata: this.metadataOf(body),
      keyName: stringAt(body, 'server.key_name', 255, true),
    };
    const defined = Object.fromEntries(Object.entries(plain).filter(([, v]) => v !== undefined));
    return validateBuilt(CreateInstanceDto, defined, NOVA_FIELDS);
  }

  /** server.metadata, checked under that name. */
  private metadataOf(body: unknown): Metadata | undefined {
    const given = at(body, 'server.metadata');
    if (given === undefined) return undefined;
    const checked = checkMetadata(given, 'server.metadata');
    if (!checked.ok) throw BerthError.invalid(checked.errors);
    return checked.value;
  }

  /** networks: [{uuid}] names one network; "auto" or none takes the cloud's only network. */
  private async networkOf(body: unknown): Promise<string> {
    const networks = at(body, 'server.networks');
    if (Array.isArray(networks) && networks.length > 0) {
      if (networks.length > 1)
        refuseField('server.networks', 'maxSize', 'must name one network: an instance has one port');
      const uuid = stringAt(body, 'server.networks.0.uuid', 64, true);
      if (uuid === undefined) refuseField('server.networks.0.uuid', 'required', 'is required (ports are not offered)');
      return uuid;
    }
    if (networks === 'none') refuseField('server.networks', 'isIn', 'must name a network: every instance has a port');
    const all = await this.dataSource.getRepository(NetworkEntity).find({ select: { id: true }, take: 2 });
    if (all.length !== 1) refuseField('server.networks', 'required', 'must name a network: the cloud has several');
    return all[0]!.id;
  }

  /** The project's servers matching the filters, from after `marker`, at most `limit`; `next` when more follow. */
  private async page(
    query: ListQuery,
    principal: Principal,
  ): Promise<{ shown: InstanceRecord[]; next: string | null }> {
    const limit = intAt({ limit: queryValue(query, 'limit') }, 'limit', 1, 1000) ?? 1000;
    const marker = queryValue(query, 'marker');
    const name = queryValue(query, 'name');
    const statuses = queryValues(query, 'status');
    if (marker !== undefined && !isUuid(marker)) throw BerthError.notFound('marker', marker);
    const all: InstanceRecord[] = [];
    let after: string | undefined;
    for (;;) {
      const batch = await this.instances.list(projectScope(principal), 500, after);
      all.push(...batch);
      if (batch.length < 500) break;
      after = batch[batch.length - 1]!.id;
    }
    const matching = all.filter(
      (r) =>
        (name === undefined || r.name.includes(name)) &&
        (statuses === undefined || statuses.some((s) => statusMatches(r, s))),
    );
    const start = marker === undefined ? 0 : matching.findIndex((r) => r.id === marker.toLowerCase()) + 1;
    if (marker !== undefined && start === 0) throw BerthError.notFound('marker', marker);
    const shown = matching.slice(start, start + limit);
    return { shown, next: start + limit < matching.length ? (shown[shown.length - 1]?.id ?? null) : null };
  }

  private pageLinks(base: string, path: string, query: ListQuery, next: string | null) {
    if (next === null) return {};
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) for (const v of [value ?? []].flat()) params.append(key, v);
    params.set('marker', next);
    return { servers_links: [{ rel: 'next', href: `${base}/compute/v2.1/servers${path}?${params.toString()}` }] };
  }
}
