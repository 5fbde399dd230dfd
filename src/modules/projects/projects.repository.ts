import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** SQL over `projects` and `environments`. Callers own the transaction. */
@Injectable()
export class ProjectsRepository {
  /**
   * The project's current key version, with the project row locked until the transaction ends:
   * `share` by every writer of secret values (it holds the version steady), `update` by a key rotation
   * (switching versions, destroying old ones), which so waits for in-flight writers.
   */
  async lockKeyVersion(em: EntityManager, projectId: string, mode: 'share' | 'update'): Promise<number> {
    const [row]: Array<{ current_key_version: number }> = await em.query(
      `SELECT current_key_version FROM projects WHERE id = $1 ${mode === 'share' ? 'FOR SHARE' : 'FOR UPDATE'}`,
      [projectId],
    );
    return row.current_key_version;
  }

  async setKeyVersion(em: EntityManager, projectId: string, keyVersion: number): Promise<void> {
    await em.query('UPDATE projects SET current_key_version = $2 WHERE id = $1', [projectId, keyVersion]);
  }
}
