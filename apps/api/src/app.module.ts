import {
  EnrollmentWorkflow,
  InstanceWorkflow,
  MigrationWorkflow,
  ReservationWorkflow,
  VolumeWorkflow,
  AttachmentWorkflow,
  OutboxRelay,
} from '@berth/control';
import { createDataSource, EventStore, validTokenIds } from '@berth/data';
import { Failpoints, type Logger } from '@berth/platform';
import { QueueProducer } from '@berth/queue';
import {
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type Provider,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AuthGuard } from './auth/auth.guard';
import { Authenticator } from './auth/authenticator';
import { TokenWatch } from './auth/token-watch';
import { Terminals } from './terminal/terminals';
import { OverviewController } from './overview/overview.controller';
import { VolumesController } from './volumes/volumes.controller';
import { VolumeTypesController } from './volumes/volume-types.controller';
import { RateLimits } from './auth/rate-limits';
import { ErrorFilter } from './common/error-filter';
import { LOG } from './common/log';
import { StrictValidationPipe } from './common/validation';
import { ApiEnv } from './config';
import { EventHub } from './events/event-hub';
import { EventsController } from './events/events.controller';
import { FlavorsController } from './flavors/flavors.controller';
import { HealthController } from './health/health.controller';
import { ApiMetrics } from './metrics/api-metrics';
import { HostsController } from './hosts/hosts.controller';
import { ImagesController } from './images/images.controller';
import { InstancesController } from './instances/instances.controller';
import { CreateRequests } from './instances/create-requests';
import { ImagesService } from './images/images.service';
import { NetworksService } from './networks/networks.service';
import { InstancesService } from './instances/instances.service';
import { NetworksController } from './networks/networks.controller';
import { AggregatesController } from './aggregates/aggregates.controller';
import { OperationsController } from './operations/operations.controller';
import { ReservationsController } from './reservations/reservations.controller';
import { SchedulingController } from './scheduling/scheduling.controller';
import { ServerGroupsController } from './server-groups/server-groups.controller';
import { SecurityGroupRulesController, SecurityGroupsController } from './security-groups/security-groups.controller';
import { MembersController } from './projects/members.controller';
import { ProjectsController } from './projects/projects.controller';
import { TokensController } from './tokens/tokens.controller';
import { LoginController } from './auth/login.controller';
import { UsageController } from './usage/usage.controller';
import { UsersController } from './users/users.controller';
import { OPENSTACK_CONTROLLERS } from './openstack/openstack-controllers';

/** Starts the outbox relay with the app and stops it, the queue and the database with it. */
@Injectable()
class Lifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    private readonly relay: OutboxRelay,
    private readonly events: EventHub,
    private readonly tokens: TokenWatch,
    private readonly producer: QueueProducer,
    private readonly dataSource: DataSource,
    private readonly limits: RateLimits,
  ) {}

  async onApplicationBootstrap() {
    await this.relay.start();
    await this.tokens.start();
    await this.events.start();
  }

  /** Event streams never end by themselves: they are closed before the server waits for its connections. */
  async beforeApplicationShutdown() {
    await this.events.stop();
    await this.tokens.stop();
  }

  async onApplicationShutdown() {
    await this.relay.stop();
    await this.producer.close();
    this.limits.close();
    await this.dataSource.destroy();
  }
}

/** Every controller of the API, one per resource. */
const CONTROLLERS = [
  HealthController,
  FlavorsController,
  ImagesController,
  NetworksController,
  InstancesController,
  OperationsController,
  EventsController,
  HostsController,
  ProjectsController,
  MembersController,
  LoginController,
  UsersController,
  TokensController,
  UsageController,
  AggregatesController,
  ServerGroupsController,
  SecurityGroupsController,
  SecurityGroupRulesController,
  SchedulingController,
  ReservationsController,
  OverviewController,
  VolumesController,
  VolumeTypesController,
  ...OPENSTACK_CONTROLLERS,
];

/** The database, the queue, the outbox relay between them, and the request limits kept in Redis. */
function infrastructure(env: ApiEnv, log: Logger): Provider[] {
  return [
    {
      provide: DataSource,
      useFactory: () =>
        createDataSource({
          url: env.BERTH_DATABASE_URL,
          poolSize: env.BERTH_DB_POOL_SIZE,
          applicationName: 'berth-api',
        }).initialize(),
    },
    {
      provide: QueueProducer,
      useFactory: () => new QueueProducer({ redisUrl: env.BERTH_REDIS_URL, prefix: env.BERTH_QUEUE_PREFIX }),
    },
    {
      provide: OutboxRelay,
      inject: [DataSource, QueueProducer],
      useFactory: (dataSource: DataSource, producer: QueueProducer) =>
        new OutboxRelay(
          dataSource,
          producer,
          log,
          { databaseUrl: env.BERTH_DATABASE_URL, pollMs: 1000, batchSize: 100 },
          Failpoints.armed(env.BERTH_FAILPOINTS, log),
        ),
    },
    {
      provide: RateLimits,
      useFactory: () =>
        new RateLimits(
          {
            redisUrl: env.BERTH_REDIS_URL,
            prefix: env.BERTH_QUEUE_PREFIX,
            tokenPerMin: env.BERTH_RATE_TOKEN_PER_MIN,
            addressPerMin: env.BERTH_RATE_ADDRESS_PER_MIN,
            authFailures: env.BERTH_RATE_AUTH_FAILURES,
            authWindowSec: env.BERTH_RATE_AUTH_WINDOW_SEC,
            exemptAdmin: env.BERTH_RATE_EXEMPT_ADMIN,
          },
          log,
        ),
    },
  ];
}

/** The control workflows the API starts (@berth/control), with their settings. */
function workflows(env: ApiEnv): Provider[] {
  const limits = { maxInstancesPerHost: env.BERTH_MAX_INSTANCES_PER_HOST, downAfterSec: env.BERTH_HOST_DOWN_AFTER_SEC };
  return [
    {
      provide: InstanceWorkflow,
      inject: [DataSource],
      useFactory: (ds: DataSource) => new InstanceWorkflow(ds, env.quotaDefaults, env.BERTH_HOST_DOWN_AFTER_SEC),
    },
    {
      provide: EnrollmentWorkflow,
      inject: [DataSource],
      useFactory: (ds: DataSource) => new EnrollmentWorkflow(ds, env.BERTH_HOST_DOWN_AFTER_SEC),
    },
    {
      provide: MigrationWorkflow,
      inject: [DataSource],
      useFactory: (ds: DataSource) => new MigrationWorkflow(ds, limits, env.BERTH_SNAPSHOT_REGISTRY),
    },
    {
      provide: ReservationWorkflow,
      inject: [DataSource],
      useFactory: (ds: DataSource) => new ReservationWorkflow(ds, limits),
    },
    { provide: AttachmentWorkflow, inject: [DataSource], useFactory: (ds: DataSource) => new AttachmentWorkflow(ds) },
    {
      provide: VolumeWorkflow,
      inject: [DataSource],
      useFactory: (ds: DataSource) => new VolumeWorkflow(ds, env.quotaDefaults, env.BERTH_HOST_DOWN_AFTER_SEC),
    },
  ];
}

/**
 * What holds a session open past its request (event streams, interactive consoles): the event stream's hub (one
 * LISTEN connection, fanned out to every client of this process), and the watch that ends a session with its token.
 */
function sessions(env: ApiEnv, log: Logger): Provider[] {
  return [
    {
      provide: TokenWatch,
      inject: [DataSource],
      useFactory: (ds: DataSource) =>
        new TokenWatch(
          {
            databaseUrl: env.BERTH_DATABASE_URL,
            checkMs: env.BERTH_EVENT_TOKEN_CHECK_SEC * 1000,
            validTokens: (ids) => validTokenIds(ds.manager, ids),
          },
          log,
        ),
    },
    {
      provide: EventHub,
      inject: [DataSource, TokenWatch],
      useFactory: (ds: DataSource, tokens: TokenWatch) =>
        new EventHub(
          new EventStore(ds),
          log,
          {
            databaseUrl: env.BERTH_DATABASE_URL,
            pollMs: 2000,
            retentionSec: env.BERTH_EVENT_RETENTION_SEC,
            pruneEveryMs: 60_000,
            streamsPerToken: env.BERTH_STREAMS_PER_TOKEN,
          },
          tokens,
        ),
    },
    Terminals,
  ];
}

@Module({})
export class AppModule {
  static forRoot(env: ApiEnv, log: Logger): DynamicModule {
    return {
      module: AppModule,
      controllers: CONTROLLERS,
      providers: [
        { provide: ApiEnv, useValue: env },
        { provide: LOG, useValue: log },
        ...infrastructure(env, log),
        ...workflows(env),
        ...sessions(env, log),
        Authenticator,
        InstancesService,
        ImagesService,
        NetworksService,
        CreateRequests,
        Lifecycle,
        {
          provide: ApiMetrics,
          inject: [DataSource],
          useFactory: (ds: DataSource) => new ApiMetrics(ds, env.BERTH_MAX_INSTANCES_PER_HOST),
        },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useFactory: () => new ErrorFilter(log) },
        { provide: APP_PIPE, useClass: StrictValidationPipe },
      ],
    };
  }
}
