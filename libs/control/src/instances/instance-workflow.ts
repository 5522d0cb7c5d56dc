import type { InstanceAction, QuotaSet } from '@berth/domain';
import { liveInstance, liveInstances, type Actor, type InstanceRecord, type Page } from '@berth/data';
import type { DataSource, EntityManager } from 'typeorm';
import { requestAction } from './actions';
import { createInstances, type CreatedInstance, type NewInstances } from './create';
import { requestLimits, type LimitsChange } from './limits';

/**
 * An instance's life as the API starts it: create (create.ts), an action (actions.ts), a live resize or limits
 * change (limits.ts, which may turn into a cold resize: ../moves). Reads go straight to @berth/data.
 */
export class InstanceWorkflow {
  constructor(
    private readonly dataSource: DataSource,
    /** Quota limits of a project that has not set its own. */
    private readonly quotaDefaults: QuotaSet,
    /** A host silent this long is down: live changes wait for it to come back. */
    private readonly downAfterSec: number,
  ) {}

  create(input: NewInstances): Promise<CreatedInstance[]> {
    return createInstances(this.dataSource, this.quotaDefaults, input);
  }

  /** A live instance, or null if it does not exist, is deleted, or lies outside `projectId` (null: any). */
  get(
    id: string,
    projectId: string | null,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<InstanceRecord | null> {
    return liveInstance(manager, id, projectId);
  }

  /** Live instances in creation order, keyset-paginated. */
  list(projectId: string | null, page: Page): Promise<InstanceRecord[]> {
    return liveInstances(this.dataSource.manager, projectId, page);
  }

  requestLimits(id: string, projectId: string | null, change: LimitsChange, actor: Actor): Promise<string> {
    const settings = { quotaDefaults: this.quotaDefaults, downAfterSec: this.downAfterSec };
    return requestLimits(this.dataSource, settings, id, projectId, change, actor);
  }

  requestAction(
    id: string,
    projectId: string | null,
    action: InstanceAction,
    actor: Actor,
    options: { deleteVolumes?: boolean } = {},
  ): Promise<string> {
    return requestAction(this.dataSource, id, projectId, action, actor, options);
  }
}
