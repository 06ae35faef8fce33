// nvmetcli JSON import/export.
import t from 'tap';
import {
  applyTarget,
  exportNvmetcli,
  formatNvmetcli,
  importNvmetcli,
  readTarget,
} from '../../src/orchestrate/configfs/index.js';
import { MemConfigfs } from '../helpers/memfs.js';

// As `nvmetcli save` writes it (keys sorted, enable 0/1, zero uuid when unset).
const SAVED = {
  hosts: [{ nqn: 'hostnqn' }],
  ports: [
    {
      addr: { adrfam: 'ipv4', traddr: '10.0.0.1', treq: 'not specified', trsvcid: '4420', trtype: 'rdma' },
      param: { inline_data_size: '16384', pi_enable: '0' },
      portid: 1,
      referrals: [],
      subsystems: ['testnqn'],
    },
  ],
  subsystems: [
    {
      allowed_hosts: ['hostnqn'],
      attr: { allow_any_host: '0', model: 'Linux', serial: '0123456789abcdef', version: '1.3' },
      namespaces: [
        {
          ana_grpid: 1,
          device: { nguid: '00000000-0000-0000-0000-000000000000', path: '/dev/nullb0', uuid: 'a1b2c3d4-0000-4000-8000-000000000001' },
          enable: 1,
          nsid: 1,
        },
      ],
      nqn: 'testnqn',
    },
  ],
};

t.test('import', async (t) => {
  const cfg = importNvmetcli(JSON.stringify(SAVED));
  t.same(cfg.hosts, ['hostnqn']);
  t.same(cfg.subsystems[0], {
    nqn: 'testnqn',
    allowAnyHost: false,
    allowedHosts: ['hostnqn'],
    attrs: { model: 'Linux', serial: '0123456789abcdef', version: '1.3' },
    namespaces: [{ nsid: 1, path: '/dev/nullb0', enable: true, uuid: 'a1b2c3d4-0000-4000-8000-000000000001', attrs: { ana_grpid: '1' } }],
  });
  t.same(cfg.ports[0], {
    portid: 1,
    trtype: 'rdma',
    adrfam: 'ipv4',
    traddr: '10.0.0.1',
    trsvcid: '4420',
    treq: 'not specified',
    params: { inline_data_size: '16384', pi_enable: '0' },
    subsystems: ['testnqn'],
  });
});

t.test('export(import(x)) == x', async (t) => {
  const out = JSON.parse(formatNvmetcli(importNvmetcli(SAVED)));
  t.same(out, SAVED);
  t.same(importNvmetcli(exportNvmetcli(importNvmetcli(SAVED))), importNvmetcli(SAVED));
});

t.test('import -> apply -> read back -> export round trip through configfs', async (t) => {
  const fs = new MemConfigfs();
  await applyTarget(fs, importNvmetcli(SAVED));
  const back = exportNvmetcli(await readTarget(fs));
  t.same(back.ports, SAVED.ports.map((p) => ({ ...p, param: { inline_data_size: '16384', pi_enable: '0' } })));
  t.same(back.subsystems[0]!.allowed_hosts, ['hostnqn']);
  t.equal(back.subsystems[0]!.attr.serial, '0123456789abcdef');
  t.equal(back.subsystems[0]!.namespaces[0]!.device.uuid, 'a1b2c3d4-0000-4000-8000-000000000001');
  t.equal(back.subsystems[0]!.namespaces[0]!.enable, true);
});

t.test('bad nvmetcli input', async (t) => {
  t.throws(() => importNvmetcli('{'), { name: 'UsageError', message: /not JSON/ });
  t.throws(() => importNvmetcli({ ports: [{ portid: 'x' }] }), /ports\[0\]\.addr|ports\[0\]\.portid/);
  t.throws(() => importNvmetcli({ ...SAVED, ports: [{ ...SAVED.ports[0], referrals: [{}] }] }), /referrals are not supported/);
  t.throws(
    () => importNvmetcli({ ...SAVED, ports: [{ ...SAVED.ports[0], addr: { ...SAVED.ports[0]!.addr, trtype: 'carrier-pigeon' } }] }),
    /ports\[0\]\.trtype/,
  );
  t.throws(() => importNvmetcli({ ...SAVED, ports: [SAVED.ports[0], { ...SAVED.ports[0], portid: 2 }] }), /duplicate port/);
});
