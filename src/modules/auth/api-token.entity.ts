import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type TokenKind = 'api' | 'cli';
export type TokenAccess = 'read' | 'read_write';

/** A bearer token. Only its SHA-256 is stored; the token itself is shown once, at creation. */
@Entity('api_tokens')
export class ApiToken {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid')
  userId: string;

  @Column('text')
  name: string;

  @Column('text')
  kind: TokenKind;

  @Column('bytea', { select: false })
  tokenHash: Buffer;

  /** Prefix and first characters, enough for a person to recognise the token in a list. */
  @Column('text')
  hint: string;

  /** `null` = every org the owner belongs to. */
  @Column('uuid', { nullable: true })
  orgId: string | null;

  /** `null` = every project of the org; requires `orgId`. */
  @Column('uuid', { nullable: true })
  projectId: string | null;

  /** Canonical environment slugs the token may use; `null` = all. */
  @Column('text', { array: true, nullable: true })
  environments: string[] | null;

  @Column('text')
  access: TokenAccess;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @Column('timestamptz')
  expiresAt: Date;

  @Column('timestamptz', { nullable: true })
  lastUsedAt: Date | null;

  @Column('timestamptz', { nullable: true })
  revokedAt: Date | null;
}
