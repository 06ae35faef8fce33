// The pins against the real archive (apt-cache): a pin the archive no longer holds is
// exit 2 saying how to update; `kernel update` on a copy of the pins moves only what
// the archive has newer and prints it. Skipped where apt-cache knows no kernels.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { execa } from 'execa';
import { Pins } from '../../src/kernel/pins.js';
import { projectRoot } from '../../src/util/project-root.js';

const project = projectRoot();
const cli = join(project, 'dist', 'cli', 'main.js');
const rb = (args: string[]) => execa('node', [cli, ...args], { reject: false, cwd: project });
const apt = await execa('apt-cache', ['show', 'linux-image-amd64'], { reject: false });
const skip = apt.exitCode === 0 ? false : 'apt-cache knows no linux-image-amd64 (run apt-get update)';
const tmp = mkdtempSync(join(tmpdir(), 'rb-pins-'));

t.test('a pin the archive no longer holds: exit 2, the packages named, how to update', { skip }, async (t) => {
  const pins = Pins.parse(JSON.parse(readFileSync(join(project, 'kernel-pins.json'), 'utf8')));
  pins.series['6.1'] = {
    meta: 'linux-image-amd64',
    version: '6.1.0-0',
    abi: '6.1.0-0-amd64',
    packages: { 'linux-image-6.1.0-0-amd64': '6.1.0-0', 'linux-source-6.1': '6.1.0-0' },
  };
  const file = join(tmp, 'stale.json');
  writeFileSync(file, JSON.stringify(pins));
  const r = await rb(['kernel', 'fetch', '--series', '6.1', '--pins', file, '--cache-dir', join(tmp, 'cache')]);
  t.equal(r.exitCode, 2, r.stderr);
  t.match(r.stderr, /the pin of series 6\.1: .*no linux-image-6\.1\.0-0-amd64=6\.1\.0-0/);
  t.match(r.stderr, /reset-bench kernel update --series 6\.1/);
});

t.test('kernel update moves a copy of the pins to the newest and says what changed', { skip }, async (t) => {
  const file = join(tmp, 'pins.json');
  copyFileSync(join(project, 'kernel-pins.json'), file);
  const before = Pins.parse(JSON.parse(readFileSync(file, 'utf8')));
  const r = await rb(['kernel', 'update', '--pins', file]);
  t.equal(r.exitCode, 0, r.stderr);
  const after = Pins.parse(JSON.parse(readFileSync(file, 'utf8')));
  for (const s of Object.keys(before.series)) {
    const moved = before.series[s]!.version !== after.series[s]!.version;
    t.match(r.stdout, moved ? new RegExp(`^${s}: ${before.series[s]!.version} .* -> ${after.series[s]!.version} `, 'm') : new RegExp(`^${s}: up to date at `, 'm'));
    const dpkg = await execa('dpkg', ['--compare-versions', after.series[s]!.version, 'ge', before.series[s]!.version], { reject: false });
    t.equal(dpkg.exitCode, 0, `${s}: never moves back`);
  }
  const again = await rb(['kernel', 'update', '--pins', file]);
  t.equal(again.exitCode, 0);
  t.notMatch(again.stdout, /->/, 'a second update changes nothing');
});
