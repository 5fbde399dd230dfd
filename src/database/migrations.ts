import { Foundation1763800000000 } from '../../migrations/1763800000000-foundation.js';

/** Every migration, oldest first. A new migration file is added here too. */
export const MIGRATIONS = [Foundation1763800000000];
