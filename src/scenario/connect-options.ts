// Why: a scenario's connect settings are the user's words (connect.host_traddr: true,
// "connect from the host's lab address"); the fabrics options want the address itself.
// One place turns the one into the other, for every connect the runner makes.
import type { ConnectOptions } from '../orchestrate/nvme-lab.js';
import { HarnessError } from '../util/errors.js';
import type { ScenarioSpec } from './spec.js';

/** The /dev/nvme-fabrics settings of the scenario's connect; host_traddr becomes `hostAddr`. */
export function connectOptions(connect: ScenarioSpec['connect'], hostAddr?: string): ConnectOptions {
  const { host_traddr: fromHost, ...rest } = connect;
  if (!fromHost) return rest;
  if (!hostAddr) throw new HarnessError('internal: connect.host_traddr asked for where no host address is known (the spec check should have refused it)');
  return { ...rest, host_traddr: hostAddr };
}
