import type { LogFields, Logger } from '../common/logger.js';

const said = new Set<string>();

/**
 * Logs a host adaptation as a warning the first time it happens and at debug level after that:
 * what the host cannot grant does not change from one pod to the next.
 */
export function warnOnce(log: Logger, msg: string, warning: string, fields: LogFields): void {
  if (said.has(warning)) log.debug(msg, { ...fields, warning });
  else {
    said.add(warning);
    log.warn(msg, { ...fields, warning, note: 'said once; later pods get the same adaptation (logged at debug level)' });
  }
}
