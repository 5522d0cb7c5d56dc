import type { Role } from '@berth/domain';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('projects')
export class ProjectEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') name!: string;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  /** Quota limits: null takes the configured default, -1 is unlimited. */
  @Column('int', { nullable: true }) quotaInstances!: number | null;
  @Column('int', { nullable: true }) quotaVcpus!: number | null;
  @Column('int', { nullable: true }) quotaRamMb!: number | null;
  @Column('int', { nullable: true }) quotaDiskGb!: number | null;
  @Column('int', { nullable: true }) quotaIps!: number | null;
}

@Entity('users')
export class UserEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') name!: string;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  /** Argon2id (PHC string); null: the user logs in with tokens only. Never shown. */
  @Column('text', { nullable: true, select: false }) passwordHash!: string | null;
}

@Entity('tokens')
export class TokenEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') userId!: string;
  @Column('uuid') projectId!: string;
  @Column('text') role!: Role;
  @Column('text', { nullable: true }) name!: string | null;
  /** SHA-256 of the token; the token itself is shown once and never stored. */
  @Column('bytea') secretHash!: Buffer;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @Column('timestamptz', { nullable: true }) expiresAt!: Date | null;
  @Column('timestamptz', { nullable: true }) revokedAt!: Date | null;
  /** The application credential that logged in for it; it ends when that credential is deleted. */
  @Column('uuid', { nullable: true }) applicationCredentialId!: string | null;
  /** From a restricted application credential: it mints no tokens and no application credentials. */
  @Column('boolean', { default: false }) restricted!: boolean;
}
