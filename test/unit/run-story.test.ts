// The failed-assertion story of a VM test: the controllers' states and the kernel's NVMe
// and RDMA lines of a run, read from its results directory.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { controllerStates, kernelStory, loaderGaps, runStory, verdictMessage } from '../helpers/run-story.js';
import type { RunResult } from '../../src/scenario/types.js';

const dir = t.testdir({});
mkdirSync(join(dir, 'runs/r'), { recursive: true });
const timeline = [
  { t_ms: 100.4, vm: 'host', kind: 'state', key: 'nvme/nvme0', value: 'live' },
  { t_ms: 150, vm: 'host', kind: 'state', key: 'net/eth0', value: 'down' },
  { t_ms: 200.6, vm: 'host', kind: 'state', key: 'nvme/nvme0', value: 'resetting' },
];
writeFileSync(join(dir, 'runs/r/timeline.json'), JSON.stringify(timeline));
writeFileSync(
  join(dir, 'runs/r/host.kmsg.log'),
  ['[0.0] <6> Command line: rb.rxe=rxe0:eth0', '[1.0] <6> random line', '[2.0] <4> nvme nvme0: starting error recovery', '[3.0] <6> infiniband rxe0: set active'].join('\n'),
);
writeFileSync(join(dir, 'runs/r/loader.json'), JSON.stringify({ gaps: [{ startNs: 10_580_784_487, endNs: 14_818_421_697, ns: 4_237_637_210, open: false }] }));
const run = {
  scenario: 's',
  kernel: 'patched',
  verdict: 'FAIL',
  reason: 'why',
  markers: { device_gone_ms: 1, device_back_ms: 2 },
  artifacts: { loader: 'runs/r/loader.json', timeline: 'runs/r/timeline.json', kmsg_host: 'runs/r/host.kmsg.log', kmsg_target: 'runs/r/target.kmsg.log' },
} as unknown as RunResult;

t.test('controller states only, in order, whole milliseconds', async (t) => {
  t.same(controllerStates(JSON.stringify(timeline)), ['100 ms host nvme0 live', '201 ms host nvme0 resetting']);
  t.match(controllerStates('{'), [/^timeline\.json is not JSON/]);
  t.match(controllerStates('[{"t_ms":"x"}]'), [/^timeline\.json unreadable/]);
});

t.test('loader stalls: start and length in seconds; a bad file says so', async (t) => {
  t.same(loaderGaps('{"gaps":[]}'), []);
  t.match(loaderGaps('nope'), [/^loader\.json is not JSON/]);
  t.match(loaderGaps('{}'), [/^loader\.json unreadable/]);
});

t.test('kernel lines: NVMe and RDMA only, no command line, the last ones', async (t) => {
  const text = ['[0.0] Kernel command line: nvme rdma', 'a nvme 1', 'b', 'c rxe 2', 'd nvme 3'].join('\n');
  t.same(kernelStory(text), ['a nvme 1', 'c rxe 2', 'd nvme 3']);
  t.same(kernelStory(text, 2), ['c rxe 2', 'd nvme 3']);
});

t.test('the story: verdict, states, each VM with a log; a missing log is left out', async (t) => {
  const story = runStory(dir, run).split('\n');
  t.same(story, ['s [patched]: FAIL', 'markers: {"device_gone_ms":1,"device_back_ms":2}', 'loader stalls (guest clock):', 'gap at 10.58 s for 4.24 s', 'controller states:', '100 ms host nvme0 live', '201 ms host nvme0 resetting', 'host kernel:', '[2.0] <4> nvme nvme0: starting error recovery', '[3.0] <6> infiniband rxe0: set active']);
  t.equal(runStory(dir, undefined), 'no such run in results.json');
});

t.test('the verdict message: the reason alone when as wanted, with the story when not', async (t) => {
  t.equal(verdictMessage(dir, run, 'FAIL'), 'why');
  t.match(verdictMessage(dir, run, 'PASS'), /^why\ns \[patched\]: FAIL\nmarkers: .*\ncontroller states:/s);
});
