import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('projects')
export class Project {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid')
  orgId: string;

  @Column('text')
  slug: string;

  @Column('text')
  name: string;

  @Column('text', { nullable: true })
  description: string | null;

  /** The DEK version new values are encrypted under. */
  @Column('integer')
  currentKeyVersion: number;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
