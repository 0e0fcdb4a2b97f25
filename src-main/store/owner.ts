// Which process owns a running run or scan: `host:pid`. A store that opens marks runs whose owner is gone as
// interrupted; a live owner's runs are left alone (a server and a CLI may share one store).
import { hostname } from 'node:os';

/** This process, as recorded on the runs it owns. */
export const OWNER = `${hostname()}:${process.pid}`;

/** True when `owner` names a process that is still running on this machine. */
export function ownerAlive(owner: string | null): boolean {
  if (!owner) return false;
  const at = owner.lastIndexOf(':');
  const host = owner.slice(0, at);
  const pid = Number(owner.slice(at + 1));
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

