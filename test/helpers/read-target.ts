// Why: the configfs tests check what applyTarget left behind by reading the nvmet tree
// back into a TargetConfig. The harness itself never reads a target back (a run's VMs
// are thrown away), so this reader is test code.
import type { GuestFs } from '../../src/orchestrate/guest-fs.js';
import { NVMET_ROOT } from '../../src/orchestrate/configfs/nvmet.js';
import type { NvmetNamespace, NvmetPort, NvmetSubsystem, TargetConfig } from '../../src/orchestrate/configfs/model.js';

/** The nvmet configuration under `root`, in the TargetConfig shape (sorted by name and id). */
export async function readTarget(fs: GuestFs, root = NVMET_ROOT): Promise<TargetConfig> {
  const ls = async (dir: string): Promise<string[]> => ((await fs.exists(dir)) ? (await fs.readdir(dir)).sort() : []);
  const read = async (path: string): Promise<string | undefined> =>
    (await fs.exists(path)) ? (await fs.readFile(path)).replace(/\n$/, '') : undefined;
  const prefixed = async (dir: string, prefix: string, skip: string[] = []): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const f of await ls(dir)) {
      const v = f.startsWith(prefix) && !skip.includes(f) ? await read(`${dir}/${f}`) : undefined;
      if (v !== undefined) out[f.slice(prefix.length)] = v;
    }
    return out;
  };
  const namespace = async (dir: string, nsid: string): Promise<NvmetNamespace> => {
    const nd = `${dir}/namespaces/${nsid}`;
    const ns: NvmetNamespace = { nsid: Number(nsid), path: (await read(`${nd}/device_path`)) ?? '', enable: (await read(`${nd}/enable`)) === '1', attrs: {} };
    const uuid = await read(`${nd}/device_uuid`);
    if (uuid) ns.uuid = uuid;
    const nguid = await read(`${nd}/device_nguid`);
    if (nguid) ns.nguid = nguid;
    const grp = await read(`${nd}/ana_grpid`);
    if (grp !== undefined) ns.attrs.ana_grpid = grp;
    return ns;
  };
  const subsystems: NvmetSubsystem[] = [];
  for (const nqn of await ls(`${root}/subsystems`)) {
    const dir = `${root}/subsystems/${nqn}`;
    const namespaces = await Promise.all((await ls(`${dir}/namespaces`)).map((nsid) => namespace(dir, nsid)));
    subsystems.push({
      nqn,
      allowAnyHost: (await read(`${dir}/attr_allow_any_host`)) === '1',
      allowedHosts: await ls(`${dir}/allowed_hosts`),
      attrs: await prefixed(dir, 'attr_', ['attr_allow_any_host']),
      namespaces: namespaces.sort((a, b) => a.nsid - b.nsid),
    });
  }
  const ports: NvmetPort[] = [];
  for (const id of await ls(`${root}/ports`)) {
    const dir = `${root}/ports/${id}`;
    const addr = await prefixed(dir, 'addr_');
    const port = { portid: Number(id), trtype: addr.trtype ?? '', params: await prefixed(dir, 'param_'), subsystems: await ls(`${dir}/subsystems`) } as NvmetPort;
    if (addr.adrfam) port.adrfam = addr.adrfam as NvmetPort['adrfam'];
    if (addr.traddr) port.traddr = addr.traddr;
    if (addr.trsvcid) port.trsvcid = addr.trsvcid;
    if (addr.treq) port.treq = addr.treq as NvmetPort['treq'];
    ports.push(port);
  }
  return { hosts: await ls(`${root}/hosts`), subsystems, ports: ports.sort((a, b) => a.portid - b.portid) };
}
