import type { Fault } from '@berth/contracts';
import type { OperationStatus, OperationStep } from '@berth/domain';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One mutating request: the audit record and the thing a client polls. */
@Entity('operations')
export class OperationEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text', { nullable: true }) requestId!: string | null;
  @Column('uuid', { nullable: true }) projectId!: string | null;
  @Column('uuid', { nullable: true }) userId!: string | null;
  @Column('text') action!: string;
  @Column('text') targetType!: string;
  @Column('uuid', { nullable: true }) targetId!: string | null;
  @Column('text') status!: OperationStatus;
  @Column('jsonb') steps!: OperationStep[];
  @Column('jsonb', { nullable: true }) fault!: Fault | null;
  @Column('timestamptz') startedAt!: Date;
  @Column('timestamptz') updatedAt!: Date;
  @Column('timestamptz', { nullable: true }) finishedAt!: Date | null;
}

@Entity('outbox')
export class OutboxEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column('text') queue!: string;
  @Column('text') jobName!: string;
  @Column('text') jobId!: string;
  @Column('jsonb') payload!: unknown;
  @Column('timestamptz') createdAt!: Date;
}
