import { ComputeController } from './compute.controller';
import { IdentityController } from './identity.controller';
import { ApplicationCredentialsController } from './application-credentials.controller';
import { ServersController } from './servers.controller';
import { ServerMetadataController } from './server-metadata.controller';
import { KeypairsController } from './keypairs.controller';
import { ImageController } from './image.controller';
import { NetworkController } from './network.controller';
import { NetworkWritesController } from './network-writes.controller';

/** The OpenStack face: Keystone v3, Nova v2.1, Glance v2 and Neutron v2.0 over Berth's own workflows. */
export const OPENSTACK_CONTROLLERS = [
  IdentityController,
  ApplicationCredentialsController,
  ComputeController,
  ServersController,
  ServerMetadataController,
  KeypairsController,
  ImageController,
  NetworkController,
  NetworkWritesController,
];
