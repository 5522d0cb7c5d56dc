// The control workflows: create, actions, limits and resize, moves (migrate, drain, evacuate), placement's
// claims, report application and the background loops. They combine @berth/data's rows with @berth/domain's
// rules; apps call them and never reach the rows a workflow changes on their own.
export * from './images/image-pulls';
export * from './instances/create';
export * from './instances/instance-workflow';
export * from './instances/limits';
export * from './instances/metadata-workflow';
export * from './loops/outbox-relay';
export * from './loops/task-watchdog';
export * from './loops/usage-audit';
export * from './moves/migration-workflow';
export * from './moves/start';
export * from './placement/placement-workflow';
export * from './placement/reservation-workflow';
export * from './reports/recovery-workflow';
export * from './reports/power-sync';
export * from './reports/report-workflow';
export * from './reports/stray-workflow';
export * from './settings/scheduling-env';
export * from './loops/firewall-refresher';
export * from './security-groups/firewalls';
export * from './specs/instance-spec';
export * from './security-groups/group-workflow';
export * from './security-groups/port-workflow';
export * from './hosts/enrollment-workflow';
export * from './tenancy/token-secrets';
export * from './tenancy/login-workflow';
export * from './tenancy/passwords';
export * from './tenancy/member-workflow';
export * from './tenancy/token-workflow';
export * from './tenancy/tenant-deletion';
export * from './tenancy/keypair-workflow';
export * from './tenancy/application-credential-workflow';
export * from './instances/console-sessions';
export * from './volumes/volume-workflow';
export * from './volumes/volume-hosts';
export * from './volumes/attachments';
