import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { Tier } from '../../common/auth/permissions.js';

@Entity('environments')
export class Environment {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid')
  projectId: string;

  @Column('text')
  slug: string;

  @Column('text')
  name: string;

  /** Decides who may read its secrets (DESIGN.md §4). */
  @Column('text')
  tier: Tier;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
