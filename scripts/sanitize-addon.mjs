#!/usr/bin/env node
// The native addon under AddressSanitizer and UndefinedBehaviorSanitizer: builds a separate
// copy of it into build-asan/ (-fsanitize=address,undefined, any UB report fatal), then runs
// the engine's tests against that copy (RESET_BENCH_ADDON). node itself is not built with
// ASan, so libasan is preloaded and leak detection is off (node's own allocations at exit
// are not ours), as is usual for Node addons. An out-of-bounds access, a use after free or
// UB in the addon aborts the test that caused it.
//
// Usage: node scripts/sanitize-addon.mjs [TEST_FILE...]   (default: the engine tests)
// Exit: 0 all passed, 1 a test failed or a sanitizer fired, 2 the build failed,
//       77 no libasan on this machine (install gcc's libasan, e.g. build-essential).
import { $, fs, path } from 'zx';

$.verbose = false;
const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..');
const out = path.join(root, 'build-asan');
const addon = path.join(out, 'build', 'Release', 'reset_bench_native.node');
const DEFAULT_TESTS = ['load-engine', 'load-verify', 'load-final-pass', 'load-read-plan', 'load-state-corrupt', 'load-limits', 'netlink-live'].map((n) => `test/unit/${n}.test.ts`);
const tests = process.argv.slice(2).length > 0 ? process.argv.slice(2) : DEFAULT_TESTS;
const say = (line) => process.stdout.write(`sanitize-addon: ${line}\n`);

/** The path of gcc's runtime library `name` (libasan.so), or undefined if it has none. */
async function gccLib(name) {
  const r = await $({ nothrow: true })`${process.env.CXX || 'g++'} -print-file-name=${name}`;
  const p = r.stdout.trim();
  return r.exitCode === 0 && path.isAbsolute(p) && fs.existsSync(p) ? fs.realpathSync(p) : undefined;
}

async function build() {
  await fs.remove(path.join(out, 'src'));
  await fs.copy(path.join(root, 'src', 'native'), path.join(out, 'src', 'native'));
  await fs.copy(path.join(root, 'binding.gyp'), path.join(out, 'binding.gyp'));
  const san = '-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g';
  const env = { ...process.env, CXXFLAGS: `${san} -O1`, CFLAGS: `${san} -O1`, LDFLAGS: '-fsanitize=address,undefined' };
  // the node headers the main build used (npm passes its nodedir config to node-gyp; we ask it)
  const nodedir = (await $({ nothrow: true })`npm config get nodedir`).stdout.trim();
  const dirArg = nodedir && nodedir !== 'undefined' && nodedir !== 'null' ? [`--nodedir=${nodedir}`] : [];
  const r = await $({ cwd: out, env, nothrow: true })`${path.join(root, 'node_modules', '.bin', 'node-gyp')} rebuild ${dirArg}`;
  if (r.exitCode !== 0) {
    process.stderr.write(r.stderr.slice(-4000));
    say('the sanitizer build failed');
    process.exit(2);
  }
  // proof that this copy really is instrumented: it needs the sanitizer runtimes
  const needed = (await $`readelf -d ${addon}`).stdout;
  for (const lib of ['libasan', 'libubsan'])
    if (!needed.includes(lib)) {
      say(`${addon} does not link ${lib}: the flags did not reach the build`);
      process.exit(2);
    }
}

/**
 * The environment without a surrounding tap run's variables (TAP_*, its NODE_OPTIONS
 * hooks): each test file here runs standalone, as its own TAP producer.
 */
function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TAP|_TAPJS)|^NODE_OPTIONS$/.test(k)));
}

/** Runs one test file with node + tap's TypeScript loader; true if it passed. */
async function runTest(file, libasan) {
  const env = {
    ...cleanEnv(),
    LD_PRELOAD: libasan,
    ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1',
    UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
    RESET_BENCH_ADDON: addon,
    // standalone tap's 30 s default is the runner's job to lift; everything is slower here
    TAP_TIMEOUT: '1800',
  };
  const loader = path.join(root, 'node_modules', '@tapjs', 'typescript', 'dist', 'esm', 'import.mjs');
  const t0 = Date.now();
  const r = await $({ cwd: root, env, nothrow: true })`node --import=${'file://' + loader} --enable-source-maps ${file}`;
  const fired = /ERROR: AddressSanitizer|runtime error:|SUMMARY: (Address|UndefinedBehavior)Sanitizer/.test(r.stderr);
  const fails = (r.stdout.match(/^\s*not ok /gm) ?? []).length;
  const oks = (r.stdout.match(/^\s*ok /gm) ?? []).length;
  // a file that ran nothing (it skipped: no io_uring here?) proves nothing: a failure
  const skipped = oks === 0 ? `, ran nothing (${/^1\.\.0 # (.*)$/m.exec(r.stdout)?.[1] ?? 'no test points'})` : '';
  const ok = r.exitCode === 0 && !fired && fails === 0 && oks > 0;
  say(`${ok ? 'PASS' : 'FAIL'} ${file}: ${oks} ok, ${fails} not ok, exit ${r.exitCode ?? r.signal}, ${((Date.now() - t0) / 1000).toFixed(1)} s${fired ? ', SANITIZER REPORT' : ''}${skipped}`);
  if (!ok) process.stderr.write(`${r.stdout.slice(-3000)}\n${r.stderr.slice(-6000)}\n`);
  return ok;
}

const libasan = await gccLib('libasan.so');
if (!libasan) {
  say('no libasan here (gcc -print-file-name=libasan.so found none): install build-essential');
  process.exit(77);
}
await build();
say(`built ${path.relative(root, addon)} with ASan + UBSan; preloading ${libasan}`);
let passed = 0;
for (const f of tests) if (await runTest(f, libasan)) passed++;
say(`${passed}/${tests.length} test files passed under ASan + UBSan`);
process.exit(passed === tests.length ? 0 : 1);
