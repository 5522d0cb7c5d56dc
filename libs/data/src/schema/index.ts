import { Initial1763800000000 } from './1763800000000-initial';
import { Tenancy1763900000000 } from './1763900000000-tenancy';
import { Scheduling1764000000000 } from './1764000000000-scheduling';
import { Limits1764100000000 } from './1764100000000-limits';
import { VmImages1764200000000 } from './1764200000000-vm-images';
import { DiskWeight1764300000000 } from './1764300000000-disk-weight';
import { Migrations1764400000000 } from './1764400000000-migrations';
import { HostEnrollment1764500000000 } from './1764500000000-host-enrollment';
import { Recovery1764600000000 } from './1764600000000-recovery';
import { RestartPolicy1764700000000 } from './1764700000000-restart-policy';
import { Events1764800000000 } from './1764800000000-events';
import { PortSecurity1764900000000 } from './1764900000000-port-security';
import { HostSandbox1765000000000 } from './1765000000000-host-sandbox';

import { SecurityGroups1765100000000 } from './1765100000000-security-groups';
import { FirewallRefresh1765200000000 } from './1765200000000-firewall-refresh';
import { HostPids1765300000000 } from './1765300000000-host-pids';
import { SecurityGroupEvents1765400000000 } from './1765400000000-security-group-events';
import { HostCapabilities1765500000000 } from './1765500000000-host-capabilities';
import { Passwords1765600000000 } from './1765600000000-passwords';
import { TokenNotify1765700000000 } from './1765700000000-token-notify';
import { TenantDeletion1765800000000 } from './1765800000000-tenant-deletion';
import { InstanceMetadata1765900000000 } from './1765900000000-instance-metadata';
import { Keypairs1766000000000 } from './1766000000000-keypairs';
import { NetworkSubnets1766100000000 } from './1766100000000-network-subnets';
import { ApplicationCredentials1766200000000 } from './1766200000000-application-credentials';
import { ResizeVerification1766300000000 } from './1766300000000-resize-verification';
import { Volumes1766400000000 } from './1766400000000-volumes';
import { VolumeAttachments1766500000000 } from './1766500000000-volume-attachments';
import { ImageSnapshots1766600000000 } from './1766600000000-image-snapshots';
import { StrayVolumes1766700000000 } from './1766700000000-stray-volumes';
import { MigrationVolumes1766800000000 } from './1766800000000-migration-volumes';

/**
 * Every schema migration (a change of the database's tables), oldest first. A landed one is never edited: add a
 * new one. In Berth's code "migration" alone means an instance's move between hosts; a change of tables is a
 * schema migration.
 */
export const SCHEMA_MIGRATIONS = [
  Initial1763800000000,
  Tenancy1763900000000,
  Scheduling1764000000000,
  Limits1764100000000,
  VmImages1764200000000,
  DiskWeight1764300000000,
  Migrations1764400000000,
  HostEnrollment1764500000000,
  Recovery1764600000000,
  RestartPolicy1764700000000,
  Events1764800000000,
  PortSecurity1764900000000,
  HostSandbox1765000000000,
  SecurityGroups1765100000000,
  FirewallRefresh1765200000000,
  HostPids1765300000000,
  SecurityGroupEvents1765400000000,
  HostCapabilities1765500000000,
  Passwords1765600000000,
  TokenNotify1765700000000,
  TenantDeletion1765800000000,
  InstanceMetadata1765900000000,
  Keypairs1766000000000,
  NetworkSubnets1766100000000,
  ApplicationCredentials1766200000000,
  ResizeVerification1766300000000,
  Volumes1766400000000,
  VolumeAttachments1766500000000,
  ImageSnapshots1766600000000,
  StrayVolumes1766700000000,
  MigrationVolumes1766800000000,
];
