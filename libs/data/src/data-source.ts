import { DataSource } from 'typeorm';
import { FlavorEntity, ImageEntity, NetworkEntity } from './entities/catalog.entity';
import { AggregateEntity, AllocationEntity, HostEntity } from './entities/host.entity';
import { InstanceEntity, PortEntity, ServerGroupEntity } from './entities/instance.entity';
import { OperationEntity, OutboxEntity } from './entities/operation.entity';
import { ProjectEntity, TokenEntity, UserEntity } from './entities/tenancy.entity';
import { SnakeNamingStrategy } from './naming';
import { SCHEMA_MIGRATIONS } from './schema';

export const ENTITIES = [
  ProjectEntity,
  UserEntity,
  TokenEntity,
  FlavorEntity,
  ImageEntity,
  NetworkEntity,
  HostEntity,
  AggregateEntity,
  AllocationEntity,
  ServerGroupEntity,
  InstanceEntity,
  PortEntity,
  OperationEntity,
  OutboxEntity,
];

export interface DatabaseOptions {
  url: string;
  poolSize: number;
  applicationName: string;
}

/** The schema only ever changes through its schema migrations (schema/): never `synchronize`. */
export function createDataSource(options: DatabaseOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    entities: ENTITIES,
    migrations: SCHEMA_MIGRATIONS,
    migrationsTransactionMode: 'each',
    synchronize: false,
    namingStrategy: new SnakeNamingStrategy(),
    applicationName: options.applicationName,
    extra: { max: options.poolSize },
  });
}
