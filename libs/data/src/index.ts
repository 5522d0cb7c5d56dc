// Plain data access: entities, the schema's migrations and one module per table or aggregate. The only place
// in Berth that writes SQL; the rules that combine these rows live in @berth/control.
export * from './data-source';
export * from './entities/catalog.entity';
export * from './entities/host.entity';
export * from './entities/instance.entity';
export * from './entities/operation.entity';
export * from './entities/tenancy.entity';
export * from './enrollment/enrollment-store';
export * from './events/event-store';
export * from './instances/instance-record';
export * from './instances/lifecycle';
export * from './operations/operations';
export * from './operations/outbox';
export * from './pg-errors';
export * from './pg-listener';
export * from './placement/allocations';
export * from './placement/claim-statement';
export * from './placement/host-state';
export * from './security-groups/security-groups';
export * from './sql';
export * from './tenancy/quotas';
export * from './hosts/hosts';
export * from './instances/instances';
export * from './moves/moves';
export * from './networks/networks';
