import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { Role } from '../../common/auth/permissions.js';

/** An invitation to an org. Single-use; only the SHA-256 of its token is stored. */
@Entity('org_invites')
export class Invite {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid')
  orgId: string;

  @Column('text')
  email: string;

  @Column('text')
  role: Role;

  @Column('bytea', { select: false })
  tokenHash: Buffer;

  @Column('uuid', { nullable: true })
  invitedBy: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Column('timestamptz')
  expiresAt: Date;

  @Column('timestamptz', { nullable: true })
  acceptedAt: Date | null;

  @Column('uuid', { nullable: true })
  acceptedBy: string | null;

  @Column('timestamptz', { nullable: true })
  revokedAt: Date | null;
}
