/**
 * Writes only while this replica knows it leads: every write verb asks `allowed()` (the leader
 * elector's own-clock view of its lease) right before the request and is refused otherwise, so a
 * replica that lost its lease stops writing at once — keys in process included.
 */
import type { KubeApi } from './kube.js';

/** A write refused because this replica does not (or no longer) hold the leader lease. */
export class NotLeaderError extends Error {
  override readonly name = 'NotLeaderError';
}

export function fenceWrites(api: KubeApi, allowed: () => boolean): KubeApi {
  const check = (what: string): void => {
    if (!allowed()) throw new NotLeaderError(`not writing (${what}): this replica does not hold the leader lease`);
  };
  return {
    list: (...args) => api.list(...args),
    get: (...args) => api.get(...args),
    create: (...args) => {
      check(`create ${args[0].plural}`);
      return api.create(...args);
    },
    replace: (...args) => {
      check(`update ${args[0].plural}`);
      return api.replace(...args);
    },
    replaceStatus: (...args) => {
      check(`update ${args[0].plural}/status`);
      return api.replaceStatus(...args);
    },
    apply: (...args) => {
      // a dry run writes nothing
      if (args[4]?.dryRun !== true) check(`apply ${args[0].plural}`);
      return api.apply(...args);
    },
    delete: (...args) => {
      check(`delete ${args[0].plural}`);
      return api.delete(...args);
    },
    createEvent: (...args) => {
      check('create events');
      return api.createEvent(...args);
    },
    patchEvent: (...args) => {
      check('patch events');
      return api.patchEvent(...args);
    },
  };
}
