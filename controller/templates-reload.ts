/**
 * Picks up a change to the templates folder without a restart. The kubelet updates a mounted
 * ConfigMap by swapping its `..data` symlink (seconds to a minute after the ConfigMap changed), and
 * an admin may edit a plain folder: either is noticed through fs.watch, with a periodic re-read as
 * the fallback where file events are not delivered.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from '../common/logger.js';
import { loadTemplates, type Templates } from '../render/templates.js';

export interface TemplatesReloadOptions {
  readonly dir: string;
  readonly initial: Templates;
  /** Called with templates that differ from the current ones (same kinds). */
  readonly onChange: (templates: Templates) => void;
  /** Called when the set of kinds changed: informers are per kind, so that needs a restart. */
  readonly onKindsChanged: (before: readonly string[], after: readonly string[]) => void;
  readonly log: Logger;
  readonly debounceMs?: number;
  readonly pollMs?: number;
}

export interface TemplatesReload {
  close(): void;
}

function fingerprint(templates: Templates): string {
  return JSON.stringify({ deployment: templates.deployment, policy: templates.policy, kinds: [...templates.kinds.entries()] });
}

/** Watches `dir` and reloads the templates when their content changes. */
export function reloadTemplatesOnChange(options: TemplatesReloadOptions): TemplatesReload {
  const { dir, log, debounceMs = 500, pollMs = 30_000 } = options;
  let current = fingerprint(options.initial);
  let kinds = [...options.initial.kinds.keys()].sort();
  let timer: NodeJS.Timeout | undefined;
  let loading = false;
  let again = false;
  let closed = false;

  const reload = async (): Promise<void> => {
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    try {
      const templates = await loadTemplates(dir);
      const next = fingerprint(templates);
      if (closed || next === current) return;
      const nextKinds = [...templates.kinds.keys()].sort();
      if (nextKinds.join() !== kinds.join()) {
        options.onKindsChanged(kinds, nextKinds);
        kinds = nextKinds;
        current = next;
        return;
      }
      current = next;
      log.info({ templates: dir }, 'templates changed: re-rendering every trigger');
      options.onChange(templates);
    } catch (err) {
      // A half-edited folder or a bad template: keep rendering with the last good templates.
      log.error({ err, templates: dir }, `templates changed but cannot be loaded, keeping the previous ones: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      loading = false;
      if (again && !closed) {
        again = false;
        schedule();
      }
    }
  };
  function schedule(): void {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), debounceMs);
  }

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { recursive: true, persistent: false }, schedule);
    watcher.on('error', (err) => {
      log.warn({ err, templates: dir }, 'cannot watch the templates folder; re-reading it periodically');
      watcher?.close();
    });
  } catch (err) {
    log.warn({ err, templates: dir }, 'cannot watch the templates folder; re-reading it periodically');
  }
  const poll = setInterval(schedule, pollMs).unref();
  return {
    close(): void {
      closed = true;
      clearTimeout(timer);
      clearInterval(poll);
      watcher?.close();
    },
  };
}
