// SPDX-License-Identifier: GPL-2.0-only
// io_uring engine of the verifying loader.
//
// One job = one std::thread with its own ring (never the JS thread). O_DIRECT, registered
// buffers (READ_FIXED/WRITE_FIXED) and a registered file; iodepth slots, each owning one
// buffer; no allocation, no locks on the hot path; one clock read per submit batch and per
// reap batch. Progress and the final result reach JS through a ThreadSafeFunction.
//
// Verification: with verify on, every write carries a blk::Header; per block we keep the
// last acknowledged generation (acked) and the last issued one (issued). A block is never
// the target of two I/Os at once (busy flag), so a read may legally find a generation in
// [acked, issued]: older means a lost write, a bad hash a torn or corrupt block. The record
// is exported as a state Buffer (see STATE FORMAT below) so a separate verify pass (e.g.
// after a reset) or a follow-up job can use it.
//
// The final pass reads exactly the blocks with a record (an acknowledged write, or one
// whose outcome is unknown), adjacent ones coalesced into reads of up to
// kVerifyReadBytes (the plan: verify_plan.h), verify_iodepth reads in flight, and checks
// every recorded block of each read on its own. Under TCG on soft-RoCE a read costs by
// the byte, so reading only what was written is what makes the pass fast. A multi-block
// read that fails is split: its blocks are read again one at a time, with the per-block
// retries, so one bad block stays one bad block.
//
// STATE FORMAT (little-endian): 64-byte header {u32 magic 'RBST', u32 version 1, u32 bs,
// u32 reserved, u64 seed, u64 offset, u64 size, u64 nblocks, 16 bytes reserved}, then per
// block {u32 acked, u32 issued}. A state given back to the engine comes from a file the
// user names (--state): CheckState trusts nothing in it before it is used.
//
// Failures that are not the job's I/O (a ring that stops answering, an allocation that
// fails, a C++ exception) end the job with an error; none of them may take node down.
#include <fcntl.h>
#include <liburing.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "addon.h"
#include "limits.h"
#include "uring_block.h"
#include "verify_plan.h"

namespace rb {
namespace {

constexpr uint32_t kStateMagic = static_cast<uint32_t>(limits::stateMagic);
constexpr uint32_t kStateVersion = static_cast<uint32_t>(limits::stateVersion);
constexpr size_t kStateHeader = limits::stateHeaderBytes;

static inline uint64_t now_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// ---------------------------------------------------------------- histogram
// Log-linear: 32 sub-buckets per power of two (about 3% resolution), exact below 32 ns.
constexpr int kSubBits = 5;
constexpr uint32_t kSub = 1u << kSubBits;
constexpr uint32_t kBuckets = (64 - kSubBits) * kSub;
static inline uint32_t hidx(uint64_t v) {
  if (v < kSub) return static_cast<uint32_t>(v);
  int msb = 63 - __builtin_clzll(v);
  return static_cast<uint32_t>((msb - kSubBits) * kSub + (v >> (msb - kSubBits)));
}
static inline uint64_t hval(uint32_t i) {
  if (i < kSub) return i;
  uint32_t q = i / kSub, m = i % kSub + kSub, shift = q - 1;
  uint64_t lo = static_cast<uint64_t>(m) << shift;
  return lo + ((1ULL << shift) >> 1);
}

struct Hist {
  std::vector<uint64_t> b;
  uint64_t n = 0, sum = 0, min = UINT64_MAX, max = 0;
  uint32_t lo = UINT32_MAX, hi = 0;
  Hist() : b(kBuckets, 0) {}
  inline void add(uint64_t v) {
    uint32_t i = hidx(v);
    b[i]++;
    n++;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
    if (i < lo) lo = i;
    if (i > hi) hi = i;
  }
  uint64_t pct(double p) const {
    if (n == 0) return 0;
    uint64_t target = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
    if (target < 1) target = 1;
    uint64_t c = 0;
    for (uint32_t i = lo; i <= hi; i++) {
      c += b[i];
      if (c >= target) return std::min(std::max(hval(i), min), max);
    }
    return max;
  }
  void reset() {
    if (n) std::fill(b.begin() + lo, b.begin() + hi + 1, 0);
    n = sum = 0;
    min = UINT64_MAX;
    max = 0;
    lo = UINT32_MAX;
    hi = 0;
  }
};

// ---------------------------------------------------------------- spec / results
enum Mode { M_READ = 0, M_WRITE, M_RANDREAD, M_RANDWRITE, M_RANDRW, M_RW, M_VERIFY };
enum Op : uint8_t { OP_READ = 0, OP_WRITE = 1 };

struct Spec {
  std::string filename;
  int mode = M_RANDREAD;
  uint32_t bs = 4096;
  uint32_t iodepth = 32;
  uint32_t verify_iodepth = 0;  // reads in flight in the final pass; 0: iodepth
  uint32_t verify_max_gap = 0;  // unrecorded blocks a final-pass read may span (verify_plan.h)
  uint64_t offset = 0;
  uint64_t size = 0;  // 0: to the end of the target
  uint64_t runtime_ns = 0;
  uint64_t ios = 0;
  double rate_iops = 0;
  uint64_t seed = 1;
  bool verify = false;
  bool final_verify = true;
  bool full_check = true;  // final pass also regenerates payloads
  uint64_t interval_ns = 10000000;
  uint64_t gap_threshold_ns = 50000000;
  uint64_t backoff_ns = 100000000;
  uint32_t max_retries = UINT32_MAX;
  uint64_t progress_ns = 250000000;
  uint32_t rwmixread = 50;
  bool direct = true;
  bool create = true;
  bool fixed = true;  // registered buffers + file
  uint32_t max_error_records = 10000;
  uint32_t max_mismatch_records = 1000;
  uint64_t drain_timeout_ns = 60000000000ULL;
  // the drain of a stop (J.stop: no final pass follows); absent: drain_timeout_ns
  uint64_t stop_drain_timeout_ns = 60000000000ULL;
  std::vector<uint8_t> state;  // optional record from an earlier job
};

static_assert(sizeof(BlockState) == limits::stateRecordBytes, "state record size");
static_assert(limits::bsMin >= 2 * blk::kHeaderSize, "a block holds a header and a payload");
static_assert(kStateHeader >= 48, "the state header holds 4 u32 and 4 u64");

struct ErrRec {
  uint64_t t_ns;
  uint64_t offset;
  uint64_t lat_ns;
  int32_t err;  // errno; 0 with short=true for a short transfer
  int32_t res;
  uint32_t attempt;
  uint8_t op;
  bool verify_pass;
};

struct Mismatch {
  uint64_t t_ns;
  uint64_t offset;
  uint64_t expected_gen;  // last acknowledged
  uint64_t issued_gen;    // last issued
  uint64_t found_gen;
  uint64_t found_hash;
  uint64_t computed_hash;
  uint64_t found_offset;
  uint64_t found_write_ns;
  int verdict;
  bool verify_pass;
};

struct Interval {
  uint32_t reads, writes, errors;
  uint64_t p50, p99, max;
};

struct Gap {
  uint64_t start_ns, end_ns;
  bool open;  // still no completion when the job ended
};

struct OpStats {
  uint64_t ios = 0, bytes = 0, errors = 0, retries = 0;
  Hist lat;
};

struct VerifyStats {
  bool ran = false;
  uint64_t start_ns = 0, end_ns = 0;
  uint64_t blocks = 0, checked = 0, ok = 0, ok_inflight = 0, ok_unwritten = 0, unreadable = 0;
  uint64_t reads = 0;  // reads issued (not counting retries)
  uint64_t bytes = 0;  // bytes those reads asked for
  uint32_t iodepth = 0;  // reads it kept in flight at most
  uint64_t bad[16] = {0};
  uint64_t bad_total = 0;
};

struct Result {
  std::string error;  // set when the job could not run at all
  int error_errno = 0;
  bool direct = true;
  bool fixed = true;
  bool stopped = false;
  uint64_t start_ns = 0, end_ns = 0, io_end_ns = 0;
  uint64_t first_ok_ns = 0, last_ok_ns = 0;
  uint64_t nblocks = 0, size = 0;
  uint32_t ring_flags = 0;
  OpStats rd, wr;
  uint64_t errors_total = 0;
  std::vector<ErrRec> errs;
  uint64_t mismatches_total = 0;
  uint64_t run_bad[16] = {0};
  std::vector<Mismatch> mism;
  std::vector<Interval> intervals;
  std::vector<Gap> gaps;
  uint64_t inflight_at_end = 0, abandoned = 0;
  VerifyStats vs;
  std::vector<uint8_t> state;
};

struct Progress {
  uint64_t now_ns, elapsed_ns, reads, writes, errors, mismatches, inflight, last_ok_ns, window_ios,
      window_ns;
  bool verifying;
};

struct Msg {
  int kind;  // 0 progress, 1 done
  Progress p;
  std::unique_ptr<Result> r;
};

struct Ctx;
void CallJs(Napi::Env env, Napi::Function cb, Ctx *ctx, Msg *msg);
using Tsfn = Napi::TypedThreadSafeFunction<Ctx, Msg, CallJs>;

struct Job {
  Spec spec;
  std::atomic<bool> stop{false};
  // finish(): end the I/O phase now, as if the runtime were up (the final pass still runs)
  std::atomic<bool> finish{false};
  int fd = -1;
  bool direct = true;
  uint64_t target_size = 0;
  Tsfn tsfn;
};

struct Ctx {
  Napi::Promise::Deferred deferred;
  bool settled = false;
  explicit Ctx(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
  void Reject(Napi::Value e) {
    if (!settled) deferred.Reject(e);
    settled = true;
  }
  void Resolve(Napi::Value v) {
    if (!settled) deferred.Resolve(v);
    settled = true;
  }
};

// ---------------------------------------------------------------- engine
class Engine {
 public:
  Engine(Job &job, Result &res) : J(job), S(job.spec), R(res) {}
  ~Engine() { teardown(); }
  bool setup();
  void run_load();
  void run_verify();
  void export_state();

 private:
  enum SlotState : uint8_t { FREE = 0, INFLIGHT, BACKOFF };
  struct Slot {
    uint64_t block;
    uint64_t submit_ns;
    uint64_t ready_ns;
    uint32_t gen;
    uint32_t attempt;
    uint32_t count;  // blocks from `block` on: 1, or more for a final-pass read
    uint8_t op;
    uint8_t state;
  };

  Job &J;
  const Spec &S;
  Result &R;
  struct io_uring ring;
  bool ring_ok = false;
  uint8_t *bufs = nullptr;
  bool leak_bufs = false;
  // the final pass: per slot a buffer of vchunk blocks (null: the blocks' own buffers),
  // vdepth reads in flight, its plan's limits and where the plan has got to
  uint8_t *vbufs = nullptr;
  uint32_t vchunk = 1;
  uint32_t vdepth = 1;
  plan::Limits vlim{1, 0};
  uint64_t vcursor = 0;
  std::vector<uint64_t> singles;  // blocks to read again one at a time (their read failed)
  std::vector<Slot> slots;
  std::vector<uint32_t> free_slots;
  std::vector<uint32_t> backoff;
  std::vector<BlockState> st;
  std::vector<uint8_t> busy;
  std::vector<uint64_t> pattern;  // payload pattern for (seed, bs)
  uint64_t nblocks = 0;
  uint32_t inflight = 0;
  uint32_t ring_retries = 0;  // consecutive EAGAIN/EBUSY from the ring
  uint64_t stray_cqes = 0;    // completions that matched no slot in flight
  uint64_t rng = 0;
  uint64_t seq_next = 0;
  bool track = false;  // keep per-block state (verify or a given state)

  // timeline
  uint64_t t0 = 0;
  uint64_t cur_k = 0;
  Interval cur{};
  Hist ihist;
  uint64_t last_ok = 0;
  // progress
  uint64_t next_progress = 0;
  uint64_t prog_last_ns = 0, prog_last_ios = 0;
  bool verifying = false;

  inline uint64_t next_rand() {  // splitmix64
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    return blk::mix64(z);
  }
  inline uint64_t rand_below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next_rand()) * n) >> 64);
  }
  uint8_t *buf_of(uint32_t slot) {
    if (verifying && vbufs) return vbufs + static_cast<size_t>(slot) * vchunk * S.bs;
    return bufs + static_cast<size_t>(slot) * S.bs;
  }
  uint64_t off_of(uint64_t block) const { return S.offset + block * S.bs; }
  bool recorded(uint64_t b) const { return plan::recorded(st[b]); }
  uint64_t recorded_in(uint64_t first, uint32_t count) const {
    uint64_t n = 0;
    for (uint64_t b = first; b < first + count; b++) n += recorded(b);
    return n;
  }

  void prep(uint32_t si, uint64_t now);
  void resubmit_due(uint64_t now);
  void roll_to(uint64_t t);
  void complete(uint32_t si, int res, uint64_t t);
  void record_error(const Slot &s, int res, uint64_t t);
  void record_check(uint64_t block, const blk::Check &c, uint64_t t);
  void check_read(uint32_t si, uint64_t t);
  bool next_verify_read(uint64_t &first, uint32_t &count);
  void alloc_verify_bufs();
  void maybe_progress(uint64_t t, bool force);
  bool wait(uint64_t timeout_ns, uint32_t wait_nr);
  bool fail(const std::string &what, int err);
  uint32_t reap(uint64_t t);
  bool pick(uint64_t &block, uint8_t &op);
  void teardown();
};

bool Engine::setup() {
  nblocks = R.nblocks;
  track = S.verify || !S.state.empty() || S.mode == M_VERIFY;
  struct io_uring_params p;
  vdepth = S.verify_iodepth ? S.verify_iodepth : S.iodepth;
  const uint32_t depth = std::max(S.iodepth, vdepth);  // the load's slots, or the final pass's
  uint32_t entries = 1;
  while (entries < depth) entries <<= 1;
  // As fio's io_uring engine: COOP_TASKRUN (+ SINGLE_ISSUER), falling back for old kernels.
  // DEFER_TASKRUN measured slower here (completions from the block layer's workers).
  const uint32_t flag_sets[] = {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN,
                                IORING_SETUP_COOP_TASKRUN, 0};
  int ret = -EINVAL;
  // RB_URING_FLAGS=<n>: force the ring setup flags (a knob for performance experiments)
  const char *force = getenv("RB_URING_FLAGS");
  if (force && !*force) force = nullptr;
  for (uint32_t f : flag_sets) {
    if (force) f = static_cast<uint32_t>(strtoul(force, nullptr, 0));
    std::memset(&p, 0, sizeof p);
    p.flags = f;
    ret = io_uring_queue_init_params(entries, &ring, &p);
    if (ret == 0) {
      R.ring_flags = f;
      break;
    }
  }
  if (ret < 0) {
    R.error = std::string("io_uring_queue_init: ") + strerror(-ret);
    R.error_errno = -ret;
    return false;
  }
  ring_ok = true;
  io_uring_register_ring_fd(&ring);  // optional (5.18+)

  size_t total = static_cast<size_t>(S.bs) * S.iodepth;
  void *mem = nullptr;
  if (posix_memalign(&mem, 4096, total) != 0) {
    R.error = "cannot allocate I/O buffers";
    return false;
  }
  bufs = static_cast<uint8_t *>(mem);
  // Non-verifying writes carry random, incompressible data, filled once.
  uint64_t r = S.seed ^ 0x5851f42d4c957f2dULL;
  for (size_t i = 0; i + 8 <= total; i += 8) {
    uint64_t v = blk::mix64(r += 0x9e3779b97f4a7c15ULL);
    std::memcpy(bufs + i, &v, 8);
  }
  R.fixed = S.fixed;
  if (S.fixed) {
    std::vector<struct iovec> iov(S.iodepth);
    for (uint32_t i = 0; i < S.iodepth; i++) {
      iov[i].iov_base = buf_of(i);
      iov[i].iov_len = S.bs;
    }
    if (io_uring_register_buffers(&ring, iov.data(), S.iodepth) < 0 ||
        io_uring_register_files(&ring, &J.fd, 1) < 0) {
      io_uring_unregister_buffers(&ring);
      R.fixed = false;  // e.g. RLIMIT_MEMLOCK on old kernels: plain reads/writes
    }
  }
  slots.assign(depth, Slot{});
  free_slots.clear();
  free_slots.reserve(depth);
  for (uint32_t i = S.iodepth; i-- > 0;) free_slots.push_back(i);
  backoff.reserve(depth);

  pattern.resize((S.bs - blk::kHeaderSize) / 8);
  blk::make_pattern(pattern.data(), pattern.size(), S.seed);
  if (track) {
    st.assign(nblocks, BlockState{0, 0});
    busy.assign(nblocks, 0);
    if (!S.state.empty()) {
      // CheckState proved this; checked again because a read past the buffer is the cost
      if (S.state.size() != kStateHeader + nblocks * sizeof(BlockState)) {
        R.error = "state: does not match the target's block count";
        return false;
      }
      std::memcpy(st.data(), S.state.data() + kStateHeader, nblocks * sizeof(BlockState));
    }
  }
  rng = S.seed * 0x2545f4914f6cdd1dULL + 1;
  if (R.errs.capacity() == 0) R.errs.reserve(std::min<uint32_t>(S.max_error_records, 1024));
  if (S.runtime_ns) R.intervals.reserve(S.runtime_ns / S.interval_ns + 16);
  return true;
}

void Engine::teardown() {
  // I/O still in flight (drain timeout, a dead ring, an exception): the kernel may still
  // write into the buffers, so they are leaked rather than freed
  if (inflight) leak_bufs = true;
  if (ring_ok) {
    io_uring_queue_exit(&ring);
    ring_ok = false;
  }
  if (bufs && !leak_bufs) free(bufs);  // leaked if I/O may still be in flight (kernel DMA)
  if (vbufs && !leak_bufs) free(vbufs);
  bufs = nullptr;
  vbufs = nullptr;
}

void Engine::export_state() {
  if (!track) return;
  R.state.assign(kStateHeader + nblocks * sizeof(BlockState), 0);
  uint8_t *b = R.state.data();
  uint32_t u32[4] = {kStateMagic, kStateVersion, S.bs, 0};
  uint64_t u64[4] = {S.seed, S.offset, R.size, nblocks};
  std::memcpy(b, u32, sizeof u32);
  std::memcpy(b + 16, u64, sizeof u64);
  std::memcpy(b + kStateHeader, st.data(), nblocks * sizeof(BlockState));
}

// Choose the next op and block; false if none can be issued now (all candidates busy).
bool Engine::pick(uint64_t &block, uint8_t &op) {
  switch (S.mode) {
    case M_READ: op = OP_READ; break;
    case M_WRITE:
    case M_RANDWRITE: op = OP_WRITE; break;
    case M_RANDREAD: op = OP_READ; break;
    default: op = rand_below(100) < S.rwmixread ? OP_READ : OP_WRITE; break;
  }
  bool seq = S.mode == M_READ || S.mode == M_WRITE || S.mode == M_RW || S.mode == M_VERIFY;
  for (int tries = 0; tries < 8; tries++) {
    uint64_t b;
    if (seq) {
      b = seq_next;
      if (track && busy[b]) return false;
      seq_next = seq_next + 1 == nblocks ? 0 : seq_next + 1;
    } else {
      b = rand_below(nblocks);
    }
    if (!track || !busy[b]) {
      block = b;
      return true;
    }
  }
  return false;
}

void Engine::prep(uint32_t si, uint64_t now) {
  Slot &s = slots[si];
  struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);  // slots <= SQ entries: never NULL
  if (!sqe) {
    io_uring_submit(&ring);
    sqe = io_uring_get_sqe(&ring);
  }
  if (!sqe) throw std::runtime_error("io_uring: no free submission entry");
  uint64_t off = off_of(s.block);
  uint8_t *buf = buf_of(si);
  int fd = R.fixed ? 0 : J.fd;
  if (s.op == OP_WRITE) {
    if (R.fixed)
      io_uring_prep_write_fixed(sqe, fd, buf, S.bs, off, si);
    else
      io_uring_prep_write(sqe, fd, buf, S.bs, off);
  } else if (verifying && vbufs) {
    // the final pass's buffers are not registered (the file may still be)
    io_uring_prep_read(sqe, fd, buf, S.bs * s.count, off);
  } else {
    if (R.fixed)
      io_uring_prep_read_fixed(sqe, fd, buf, S.bs, off, si);
    else
      io_uring_prep_read(sqe, fd, buf, S.bs, off);
  }
  if (R.fixed) sqe->flags |= IOSQE_FIXED_FILE;
  sqe->user_data = si;
  s.submit_ns = now;
  s.state = INFLIGHT;
  inflight++;
}

// Close timeline intervals up to the one containing t.
void Engine::roll_to(uint64_t t) {
  if (t < t0) return;
  uint64_t k = (t - t0) / S.interval_ns;
  while (cur_k < k) {
    cur.p50 = ihist.pct(50);
    cur.p99 = ihist.pct(99);
    cur.max = ihist.n ? ihist.max : 0;
    R.intervals.push_back(cur);
    cur = Interval{};
    ihist.reset();
    cur_k++;
  }
}

void Engine::record_error(const Slot &s, int res, uint64_t t) {
  R.errors_total++;
  if (!verifying) {
    cur.errors++;
    (s.op == OP_WRITE ? R.wr : R.rd).errors++;
  }
  if (R.errs.size() < S.max_error_records) {
    ErrRec e;
    e.t_ns = t;
    e.offset = off_of(s.block);
    e.lat_ns = t - s.submit_ns;
    e.err = res < 0 ? -res : 0;
    e.res = res;
    e.attempt = s.attempt;
    e.op = s.op;
    e.verify_pass = verifying;
    R.errs.push_back(e);
  }
}

void Engine::record_check(uint64_t block, const blk::Check &c, uint64_t t) {
  R.mismatches_total++;
  if (verifying)
    R.vs.bad[c.verdict]++, R.vs.bad_total++;
  else
    R.run_bad[c.verdict]++;
  if (R.mism.size() < S.max_mismatch_records) {
    Mismatch m;
    m.t_ns = t;
    m.offset = off_of(block);
    m.expected_gen = st[block].acked;
    m.issued_gen = st[block].issued;
    m.found_gen = c.found_gen;
    m.found_hash = c.found_hash;
    m.computed_hash = c.computed_hash;
    m.found_offset = c.found_offset;
    m.found_write_ns = c.found_write_ns;
    m.verdict = c.verdict;
    m.verify_pass = verifying;
    R.mism.push_back(m);
  }
}

void Engine::complete(uint32_t si, int res, uint64_t t) {
  Slot &s = slots[si];
  inflight--;
  if (verifying && res == static_cast<int>(S.bs * s.count)) {
    check_read(si, t);
    s.state = FREE;
    free_slots.push_back(si);
    return;
  }
  if (!verifying && res == static_cast<int>(S.bs)) {
    uint64_t lat = t - s.submit_ns;
    OpStats &os = s.op == OP_WRITE ? R.wr : R.rd;
    os.ios++;
    os.bytes += S.bs;
    os.lat.add(lat);
    ihist.add(lat);
    if (s.op == OP_WRITE)
      cur.writes++;
    else
      cur.reads++;
    if (last_ok && t - last_ok >= S.gap_threshold_ns) R.gaps.push_back(Gap{last_ok, t, false});
    if (!R.first_ok_ns) R.first_ok_ns = t;
    last_ok = t;
    if (track) {
      BlockState &b = st[s.block];
      if (s.op == OP_WRITE) {
        b.acked = s.gen;
      } else if (S.verify) {
        blk::Check c =
            blk::check_block(buf_of(si), S.bs, S.seed, off_of(s.block), b.acked, b.issued, nullptr);
        if (blk::verdict_bad(c.verdict)) record_check(s.block, c, t);
      }
      busy[s.block] = 0;
    }
    s.state = FREE;
    free_slots.push_back(si);
    return;
  }
  // An error or a short transfer: record it, then retry after the back-off.
  record_error(s, res, t);
  if (verifying && s.count > 1 && !J.stop.load(std::memory_order_relaxed)) {
    // A multi-block read failed: each of its recorded blocks is read on its own, so
    // the per-block retries decide which ones are unreadable. This slot retries the first.
    for (uint64_t b = s.block + s.count; b-- > s.block + 1;) {
      busy[b] = 0;
      if (recorded(b)) singles.push_back(b);
    }
    s.count = 1;
  }
  // the final pass retries a little (a block that stays unreadable is reported as such)
  uint32_t limit =
      verifying ? std::min<uint32_t>(S.max_retries, static_cast<uint32_t>(limits::verifyRetriesMax)) : S.max_retries;
  if (s.attempt < limit && !J.stop.load(std::memory_order_relaxed)) {
    s.attempt++;
    if (!verifying) (s.op == OP_WRITE ? R.wr : R.rd).retries++;
    s.state = BACKOFF;
    s.ready_ns = t + S.backoff_ns;
    backoff.push_back(si);
    return;
  }
  // Given up: a write leaves the block at "acked or issued" (already recorded).
  if (verifying) R.vs.unreadable += recorded_in(s.block, s.count);
  R.abandoned++;
  if (track)
    for (uint64_t b = s.block; b < s.block + std::max<uint32_t>(s.count, 1); b++) busy[b] = 0;
  s.state = FREE;
  free_slots.push_back(si);
}

// Resubmits the retries whose back-off has passed (run and verify loops alike).
void Engine::resubmit_due(uint64_t now) {
  for (size_t i = 0; i < backoff.size();) {
    uint32_t si = backoff[i];
    if (slots[si].ready_ns <= now) {
      backoff[i] = backoff.back();
      backoff.pop_back();
      prep(si, now);
    } else {
      i++;
    }
  }
}

// Ends the job with an error the ring gave (not an I/O error: those are per I/O).
bool Engine::fail(const std::string &what, int err) {
  if (R.error.empty()) {
    R.error = what + ": " + strerror(err);
    R.error_errno = err;
  }
  return false;
}

// Submits what is prepared and waits for completions. false: the ring failed (R.error).
// A timeout, a signal, or a full completion queue (EAGAIN/EBUSY: reap, then submit
// again) are not failures; a ring that keeps refusing for ~10 s is.
bool Engine::wait(uint64_t timeout_ns, uint32_t wait_nr) {
  struct __kernel_timespec ts;
  ts.tv_sec = static_cast<long long>(timeout_ns / 1000000000ULL);
  ts.tv_nsec = static_cast<long long>(timeout_ns % 1000000000ULL);
  struct io_uring_cqe *cqe = nullptr;
  int ret = io_uring_submit_and_wait_timeout(&ring, &cqe, wait_nr, &ts, nullptr);
  if (ret >= 0 || ret == -ETIME || ret == -EINTR) {
    ring_retries = 0;
    return true;
  }
  if ((ret == -EAGAIN || ret == -EBUSY) && ++ring_retries < 10000) {
    if (io_uring_cq_ready(&ring) == 0) usleep(1000);
    return true;
  }
  return fail("io_uring_submit_and_wait_timeout", -ret);
}

// Completes every CQE. user_data is the slot index: anything else (liburing's own
// timeout CQE on kernels without EXT_ARG, a slot not in flight) is counted and skipped.
uint32_t Engine::reap(uint64_t t) {
  unsigned head;
  struct io_uring_cqe *cqe;
  uint32_t n = 0;
  io_uring_for_each_cqe(&ring, head, cqe) {
    n++;
    uint64_t ud = cqe->user_data;
    if (ud >= slots.size() || slots[ud].state != INFLIGHT) {
      stray_cqes++;
      continue;
    }
    complete(static_cast<uint32_t>(ud), cqe->res, t);
  }
  if (n) io_uring_cq_advance(&ring, n);
  return n;
}

void Engine::maybe_progress(uint64_t t, bool force) {
  if (!force && t < next_progress) return;
  next_progress = t + S.progress_ns;
  Msg *m = new (std::nothrow) Msg();
  if (!m) return;  // no memory for a progress tick: skip it, the job goes on
  m->kind = 0;
  uint64_t ios = R.rd.ios + R.wr.ios;
  m->p = Progress{t,           t - R.start_ns, R.rd.ios,  R.wr.ios, R.errors_total, R.mismatches_total,
                  inflight,    last_ok,        ios - prog_last_ios, t - prog_last_ns, verifying};
  prog_last_ios = ios;
  prog_last_ns = t;
  if (J.tsfn.NonBlockingCall(m) != napi_ok) delete m;
}

void Engine::run_load() {
  uint64_t start = now_ns();
  R.start_ns = t0 = start;
  prog_last_ns = start;
  next_progress = start + S.progress_ns;
  const uint64_t deadline = S.runtime_ns ? start + S.runtime_ns : UINT64_MAX;
  uint64_t issued = 0;
  bool stopping = false;
  uint64_t stop_at = 0;
  uint64_t stopped_at = UINT64_MAX;  // when J.stop was seen (also during another end's drain)
  uint64_t now = start;
  // rate limit: a token bucket holding at most 10 ms of tokens (>= 1), so a stall (an
  // outage) is not followed by a catch-up burst that would distort the recovery
  const double burst = S.rate_iops > 0 ? std::max(1.0, S.rate_iops / 100.0) : 0;
  double tokens = 1.0;
  uint64_t tok_ns = start;
  for (;;) {
    if (!stopping) {
      if (J.stop.load(std::memory_order_relaxed) || J.finish.load(std::memory_order_relaxed) || now >= deadline)
        stopping = true, stop_at = now, R.stopped = J.stop.load(std::memory_order_relaxed);
    }
    if (stopping && stopped_at == UINT64_MAX && J.stop.load(std::memory_order_relaxed)) stopped_at = now;
    if (!stopping) {
      resubmit_due(now);
      // new I/O
      uint64_t allowed = UINT64_MAX;
      if (S.rate_iops > 0) {
        tokens = std::min(burst, tokens + static_cast<double>(now - tok_ns) * S.rate_iops / 1e9);
        tok_ns = now;
        allowed = issued + static_cast<uint64_t>(tokens);
      }
      if (S.ios && S.ios < allowed) allowed = S.ios;
      const uint64_t issued_before = issued;
      while (!free_slots.empty() && issued < allowed) {
        uint64_t block;
        uint8_t op;
        if (!pick(block, op)) break;
        uint32_t si = free_slots.back();
        free_slots.pop_back();
        Slot &s = slots[si];
        s.block = block;
        s.op = op;
        s.attempt = 0;
        s.count = 1;
        if (track) {
          busy[block] = 1;
          if (op == OP_WRITE) {
            BlockState &b = st[block];
            uint32_t g = std::max(b.acked, b.issued) + 1;
            b.issued = g;
            s.gen = g;
          }
        }
        if (op == OP_WRITE && S.verify)
          blk::format_block(buf_of(si), S.bs, S.seed, off_of(block), s.gen, now, pattern.data());
        prep(si, now);
        issued++;
      }
      if (S.rate_iops > 0) tokens -= static_cast<double>(issued - issued_before);
    } else if (!backoff.empty()) {
      // stopping: pending retries are abandoned (their blocks stay "acked or issued")
      for (uint32_t si : backoff) {
        Slot &s = slots[si];
        R.abandoned++;
        if (track) busy[s.block] = 0;
        s.state = FREE;
        free_slots.push_back(si);
      }
      backoff.clear();
    }
    bool count_done = S.ios && issued >= S.ios && backoff.empty();
    if (inflight == 0 && (stopping || count_done)) break;
    // In-flight I/O is waited for drain_timeout_ns after a finish or the end of the runtime
    // (the final pass reads back what it wrote), stop_drain_timeout_ns after a stop (none
    // will); a stop during a finish's drain ends it by whichever comes first.
    const bool drained = (!R.stopped && now - stop_at > S.drain_timeout_ns) ||
                         (stopped_at != UINT64_MAX && now - stopped_at > S.stop_drain_timeout_ns);
    if (stopping && drained) {
      R.inflight_at_end = inflight;
      leak_bufs = true;
      break;
    }
    // how long may we sleep?
    uint64_t wake = next_progress;
    uint64_t next_iv = t0 + (cur_k + 1) * S.interval_ns;
    if (inflight == 0 && next_iv < wake) wake = next_iv;  // keep the timeline moving while idle
    if (!stopping) {
      if (deadline < wake) wake = deadline;
      for (uint32_t si : backoff) wake = std::min(wake, slots[si].ready_ns);
      if (S.rate_iops > 0 && !free_slots.empty()) {
        double need = tokens >= 1.0 ? 0.0 : (1.0 - tokens) * 1e9 / S.rate_iops;
        wake = std::min(wake, now + static_cast<uint64_t>(need) + 1);
      }
    }
    uint64_t timeout = wake > now ? wake - now : 0;
    if (timeout > 10000000) timeout = 10000000;  // notice stop() within 10 ms
    if (timeout < 1000) timeout = 1000;
    if (!wait(timeout, 1)) break;
    now = now_ns();
    roll_to(now);  // first: completions seen at `now` belong to now's interval
    reap(now);
    maybe_progress(now, false);
  }
  R.io_end_ns = now;
  // a trailing gap (or a job without any completion) is reported open
  if (!last_ok) last_ok = start;
  if (now - last_ok >= S.gap_threshold_ns) R.gaps.push_back(Gap{last_ok, now, true});
  roll_to(now + S.interval_ns);  // flush the last (partial) interval
  R.last_ok_ns = R.first_ok_ns ? last_ok : 0;
}

// Checks every recorded block of a final-pass read that completed whole.
void Engine::check_read(uint32_t si, uint64_t t) {
  Slot &s = slots[si];
  for (uint32_t k = 0; k < s.count; k++) {
    uint64_t blk_no = s.block + k;
    BlockState &b = st[blk_no];
    busy[blk_no] = 0;
    if (b.acked == 0 && b.issued == 0) continue;  // read only to keep the read whole
    blk::Check c = blk::check_block(buf_of(si) + static_cast<size_t>(k) * S.bs, S.bs, S.seed, off_of(blk_no),
                                    b.acked, b.issued, S.full_check ? pattern.data() : nullptr);
    R.vs.checked++;
    if (c.verdict == blk::V_OK) R.vs.ok++;
    else if (c.verdict == blk::V_OK_INFLIGHT) R.vs.ok_inflight++;
    else if (c.verdict == blk::V_OK_UNWRITTEN || c.verdict == blk::V_OK_UNKNOWN) R.vs.ok_unwritten++;
    if (blk::verdict_bad(c.verdict)) record_check(blk_no, c, t);
  }
}

// The next read of the final pass: a block to read again on its own, else the plan's
// next read (verify_plan.h). false: nothing left.
bool Engine::next_verify_read(uint64_t &first, uint32_t &count) {
  if (!singles.empty()) {
    first = singles.back();
    singles.pop_back();
    count = 1;
    return true;
  }
  if (!plan::next_read(st.data(), nblocks, vcursor, vlim, first, count)) return false;
  R.vs.blocks += recorded_in(first, count);
  return true;
}

// The final pass's buffers: vdepth of kVerifyReadBytes (at least a block) each, shorter
// reads where that would pass kVerifyBufBytes in all. Without them (no memory) it reads
// one block at a time into the load's buffers, at most iodepth at once.
void Engine::alloc_verify_bufs() {
  constexpr uint32_t kVerifyReadBytes = 128 * 1024;
  constexpr uint64_t kVerifyBufBytes = 64ULL << 20;
  vchunk = std::max<uint32_t>(1, kVerifyReadBytes / S.bs);
  const uint64_t fit = kVerifyBufBytes / (static_cast<uint64_t>(S.bs) * vdepth);
  if (fit < vchunk) vchunk = static_cast<uint32_t>(std::max<uint64_t>(1, fit));
  vlim = plan::Limits{vchunk, S.verify_max_gap};
  if (vchunk == 1 && vdepth <= S.iodepth) return;
  void *mem = nullptr;
  if (posix_memalign(&mem, 4096, static_cast<size_t>(S.bs) * vchunk * vdepth) != 0) {
    vchunk = 1;
    vlim.max_blocks = 1;
    vdepth = std::min(vdepth, S.iodepth);
    return;
  }
  vbufs = static_cast<uint8_t *>(mem);
}

// Reads back every block we have a record of (see the header: the plan's reads, vdepth
// at a time), checking each one.
void Engine::run_verify() {
  if (R.inflight_at_end) return;  // ring still busy: cannot verify with these buffers
  alloc_verify_bufs();
  // every slot is free here (the load drained, or none ran): the pass takes vdepth of them
  free_slots.clear();
  for (uint32_t i = vdepth; i-- > 0;) free_slots.push_back(i);
  vcursor = 0;
  R.vs.iodepth = vdepth;
  verifying = true;
  R.vs.ran = true;
  uint64_t start = now_ns();
  R.vs.start_ns = start;
  if (!R.start_ns) R.start_ns = t0 = start, prog_last_ns = start;
  next_progress = start + S.progress_ns;
  uint64_t now = start;
  for (;;) {
    if (!J.stop.load(std::memory_order_relaxed)) {
      resubmit_due(now);
      uint64_t first;
      uint32_t count;
      while (!free_slots.empty() && next_verify_read(first, count)) {
        uint32_t si = free_slots.back();
        free_slots.pop_back();
        Slot &s = slots[si];
        s.block = first;
        s.count = count;
        s.op = OP_READ;
        s.attempt = 0;
        for (uint64_t k = first; k < first + count; k++) busy[k] = 1;
        R.vs.reads++;
        R.vs.bytes += static_cast<uint64_t>(S.bs) * count;
        prep(si, now);
      }
    } else {
      R.stopped = true;
      for (uint32_t si : backoff) {
        slots[si].state = FREE;
        free_slots.push_back(si);
      }
      backoff.clear();
      singles.clear();
      vcursor = nblocks;
    }
    if (inflight == 0 && backoff.empty() && singles.empty() && vcursor >= nblocks) break;
    uint64_t wake = next_progress;
    for (uint32_t si : backoff) wake = std::min(wake, slots[si].ready_ns);
    uint64_t timeout = wake > now ? wake - now : 0;
    if (timeout > 10000000) timeout = 10000000;
    if (timeout < 1000) timeout = 1000;
    if (!wait(timeout, 1)) break;
    now = now_ns();
    reap(now);
    maybe_progress(now, false);
  }
  R.vs.end_ns = now;
  R.end_ns = now;
  verifying = false;
}

// ---------------------------------------------------------------- JS conversion
inline Napi::Value Num(Napi::Env env, uint64_t v) { return Napi::Number::New(env, static_cast<double>(v)); }

Napi::Object LatObj(Napi::Env env, const Hist &h) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("count", Num(env, h.n));
  o.Set("minNs", Num(env, h.n ? h.min : 0));
  o.Set("maxNs", Num(env, h.max));
  o.Set("meanNs", Napi::Number::New(env, h.n ? static_cast<double>(h.sum) / static_cast<double>(h.n) : 0));
  static const double ps[] = {1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99};
  Napi::Object pc = Napi::Object::New(env);
  for (double p : ps) {
    char k[16];
    snprintf(k, sizeof k, "%g", p);
    pc.Set(k, Num(env, h.pct(p)));
  }
  o.Set("percentilesNs", pc);
  return o;
}

Napi::Object OpObj(Napi::Env env, const OpStats &s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ios", Num(env, s.ios));
  o.Set("bytes", Num(env, s.bytes));
  o.Set("errors", Num(env, s.errors));
  o.Set("retries", Num(env, s.retries));
  o.Set("lat", LatObj(env, s.lat));
  return o;
}

Napi::Object BadObj(Napi::Env env, const uint64_t *bad) {
  Napi::Object o = Napi::Object::New(env);
  for (int v = blk::V_LOST; v <= blk::V_FUTURE; v++) o.Set(blk::verdict_name(v), Num(env, bad[v]));
  return o;
}

Napi::Value ResultToJs(Napi::Env env, Result &r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("direct", Napi::Boolean::New(env, r.direct));
  o.Set("fixedBuffers", Napi::Boolean::New(env, r.fixed));
  o.Set("ringFlags", Num(env, r.ring_flags));
  o.Set("stoppedEarly", Napi::Boolean::New(env, r.stopped));
  o.Set("startNs", Num(env, r.start_ns));
  o.Set("ioEndNs", Num(env, r.io_end_ns));
  o.Set("endNs", Num(env, r.end_ns));
  o.Set("firstCompletionNs", Num(env, r.first_ok_ns));
  o.Set("lastCompletionNs", Num(env, r.last_ok_ns));
  o.Set("nblocks", Num(env, r.nblocks));
  o.Set("size", Num(env, r.size));
  o.Set("read", OpObj(env, r.rd));
  o.Set("write", OpObj(env, r.wr));
  o.Set("ioErrors", Num(env, r.errors_total));
  o.Set("inflightAtEnd", Num(env, r.inflight_at_end));
  o.Set("abandoned", Num(env, r.abandoned));
  Napi::Array errs = Napi::Array::New(env, r.errs.size());
  for (size_t i = 0; i < r.errs.size(); i++) {
    const ErrRec &e = r.errs[i];
    Napi::Object x = Napi::Object::New(env);
    x.Set("timeNs", Num(env, e.t_ns));
    x.Set("op", Napi::String::New(env, e.op == OP_WRITE ? "write" : "read"));
    x.Set("offset", Num(env, e.offset));
    x.Set("errno", Napi::Number::New(env, e.err));
    x.Set("code", Napi::String::New(env, e.err ? strerrorname_np(e.err) ? strerrorname_np(e.err) : "E?" : "SHORT"));
    x.Set("res", Napi::Number::New(env, e.res));
    x.Set("latNs", Num(env, e.lat_ns));
    x.Set("attempt", Num(env, e.attempt));
    x.Set("phase", Napi::String::New(env, e.verify_pass ? "verify" : "run"));
    errs.Set(i, x);
  }
  o.Set("errors", errs);
  Napi::Object ver = Napi::Object::New(env);
  ver.Set("mismatches", Num(env, r.mismatches_total));
  ver.Set("runMismatches", BadObj(env, r.run_bad));
  Napi::Array mm = Napi::Array::New(env, r.mism.size());
  char hex[24];
  for (size_t i = 0; i < r.mism.size(); i++) {
    const Mismatch &m = r.mism[i];
    Napi::Object x = Napi::Object::New(env);
    x.Set("timeNs", Num(env, m.t_ns));
    x.Set("offset", Num(env, m.offset));
    x.Set("kind", Napi::String::New(env, blk::verdict_name(m.verdict)));
    x.Set("phase", Napi::String::New(env, m.verify_pass ? "verify" : "run"));
    x.Set("expectedGen", Num(env, m.expected_gen));
    x.Set("issuedGen", Num(env, m.issued_gen));
    x.Set("foundGen", Num(env, m.found_gen));
    snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(m.found_hash));
    x.Set("foundChecksum", Napi::String::New(env, hex));
    snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(m.computed_hash));
    x.Set("computedChecksum", Napi::String::New(env, hex));
    x.Set("foundOffset", Num(env, m.found_offset));
    x.Set("foundWriteNs", Num(env, m.found_write_ns));
    mm.Set(i, x);
  }
  ver.Set("details", mm);
  Napi::Object fp = Napi::Object::New(env);
  fp.Set("ran", Napi::Boolean::New(env, r.vs.ran));
  fp.Set("startNs", Num(env, r.vs.start_ns));
  fp.Set("endNs", Num(env, r.vs.end_ns));
  fp.Set("blocks", Num(env, r.vs.blocks));
  fp.Set("checked", Num(env, r.vs.checked));
  fp.Set("ok", Num(env, r.vs.ok));
  fp.Set("okInflight", Num(env, r.vs.ok_inflight));
  fp.Set("okUnwritten", Num(env, r.vs.ok_unwritten));
  fp.Set("unreadable", Num(env, r.vs.unreadable));
  fp.Set("reads", Num(env, r.vs.reads));
  fp.Set("bytes", Num(env, r.vs.bytes));
  fp.Set("iodepth", Num(env, r.vs.iodepth));
  fp.Set("bad", Num(env, r.vs.bad_total));
  fp.Set("byKind", BadObj(env, r.vs.bad));
  ver.Set("finalPass", fp);
  o.Set("verify", ver);

  // timeline, columnar (compact and cheap to build)
  Napi::Object tl = Napi::Object::New(env);
  size_t n = r.intervals.size();
  tl.Set("startNs", Num(env, r.start_ns));
  Napi::Float64Array reads = Napi::Float64Array::New(env, n), writes = Napi::Float64Array::New(env, n),
                     errors = Napi::Float64Array::New(env, n), p50 = Napi::Float64Array::New(env, n),
                     p99 = Napi::Float64Array::New(env, n), mx = Napi::Float64Array::New(env, n);
  for (size_t i = 0; i < n; i++) {
    const Interval &iv = r.intervals[i];
    reads[i] = iv.reads;
    writes[i] = iv.writes;
    errors[i] = iv.errors;
    p50[i] = static_cast<double>(iv.p50);
    p99[i] = static_cast<double>(iv.p99);
    mx[i] = static_cast<double>(iv.max);
  }
  tl.Set("reads", reads);
  tl.Set("writes", writes);
  tl.Set("errors", errors);
  tl.Set("p50Ns", p50);
  tl.Set("p99Ns", p99);
  tl.Set("maxNs", mx);
  o.Set("timeline", tl);
  Napi::Array gaps = Napi::Array::New(env, r.gaps.size());
  for (size_t i = 0; i < r.gaps.size(); i++) {
    Napi::Object g = Napi::Object::New(env);
    g.Set("startNs", Num(env, r.gaps[i].start_ns));
    g.Set("endNs", Num(env, r.gaps[i].end_ns));
    g.Set("ns", Num(env, r.gaps[i].end_ns - r.gaps[i].start_ns));
    g.Set("open", Napi::Boolean::New(env, r.gaps[i].open));
    gaps.Set(i, g);
  }
  o.Set("gaps", gaps);
  if (!r.state.empty())
    o.Set("state", Napi::Buffer<uint8_t>::Copy(env, r.state.data(), r.state.size()));
  return o;
}

void CallJs(Napi::Env env, Napi::Function cb, Ctx *ctx, Msg *msg) {
  std::unique_ptr<Msg> m(msg);
  if (env == nullptr || m == nullptr) return;
  if (m->kind == 0) {
    if (cb.IsEmpty() || !cb.IsFunction()) return;
    const Progress &p = m->p;
    Napi::Object o = Napi::Object::New(env);
    o.Set("nowNs", Num(env, p.now_ns));
    o.Set("elapsedNs", Num(env, p.elapsed_ns));
    o.Set("reads", Num(env, p.reads));
    o.Set("writes", Num(env, p.writes));
    o.Set("errors", Num(env, p.errors));
    o.Set("mismatches", Num(env, p.mismatches));
    o.Set("inflight", Num(env, p.inflight));
    o.Set("lastCompletionNs", Num(env, p.last_ok_ns));
    o.Set("iops", Napi::Number::New(env, p.window_ns ? static_cast<double>(p.window_ios) * 1e9 / static_cast<double>(p.window_ns) : 0));
    o.Set("phase", Napi::String::New(env, p.verifying ? "verify" : "run"));
    cb.Call({o});
    if (env.IsExceptionPending()) env.GetAndClearPendingException();  // a throwing callback must not kill the job
    return;
  }
  Result &r = *m->r;
  if (!r.error.empty()) {
    Napi::Error e = Napi::Error::New(env, r.error);
    e.Set("code", Napi::String::New(env, r.error.rfind("state: ", 0) == 0 ? "ERR_LOAD_SPEC" : "ERR_LOAD_ENGINE"));
    if (r.error_errno) e.Set("errno", Napi::Number::New(env, r.error_errno));
    ctx->Reject(e.Value());
    return;
  }
  try {
    Napi::Value v = ResultToJs(env, r);
    if (env.IsExceptionPending()) ctx->Reject(env.GetAndClearPendingException().Value());
    else ctx->Resolve(v);
  } catch (const std::exception &ex) {
    ctx->Reject(Napi::Error::New(env, std::string("engine: cannot build the result: ") + ex.what()).Value());
  }
}

// The job's whole life on its own thread. Nothing may escape it: an exception here
// would be std::terminate, i.e. node aborting with every VM of the suite.
void RunEngine(Job &job, Result &res) {
  Engine e(job, res);
  if (!e.setup()) return;
  if (job.spec.mode == M_VERIFY) {
    e.run_verify();
  } else {
    e.run_load();
    res.end_ns = res.io_end_ns;
    if (res.error.empty() && job.spec.verify && job.spec.final_verify && !job.stop.load()) e.run_verify();
  }
  if (res.error.empty()) e.export_state();
}

void RunThread(std::shared_ptr<Job> job, std::unique_ptr<Result> res) {
  try {
    RunEngine(*job, *res);
  } catch (const std::bad_alloc &) {
    res->error = "engine: out of memory";
    res->error_errno = ENOMEM;
  } catch (const std::exception &ex) {
    res->error = std::string("engine: ") + ex.what();
  } catch (...) {
    res->error = "engine: unknown exception";
  }
  if (!res->error.empty()) res->state.clear();  // a failed job leaves no record to trust
  if (job->fd >= 0) close(job->fd);
  job->fd = -1;
  Msg *m = new (std::nothrow) Msg();
  if (m) {
    m->kind = 1;
    m->r = std::move(res);
    if (job->tsfn.BlockingCall(m) != napi_ok) delete m;
  }
  // (no memory even for the message: the promise stays pending; Release still frees the job)
  job->tsfn.Release();
}

// ---------------------------------------------------------------- spec parsing
bool GetU64(const Napi::Object &o, const char *k, uint64_t &out, std::string &err) {
  Napi::Value v = o.Get(k);
  if (v.IsUndefined() || v.IsNull()) return true;
  if (v.IsBigInt()) {
    bool lossless;
    out = v.As<Napi::BigInt>().Uint64Value(&lossless);
    return true;
  }
  if (!v.IsNumber()) {
    err = std::string(k) + ": expected a number";
    return false;
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 1.8e19 || std::floor(d) != d) {
    err = std::string(k) + ": expected a non-negative integer";
    return false;
  }
  out = static_cast<uint64_t>(d);
  return true;
}
bool GetBool(const Napi::Object &o, const char *k, bool &out) {
  Napi::Value v = o.Get(k);
  if (v.IsBoolean()) out = v.As<Napi::Boolean>().Value();
  return true;
}

bool ParseSpec(const Napi::Object &o, Spec &s, std::string &err) {
  Napi::Value fn = o.Get("filename");
  if (!fn.IsString()) {
    err = "filename: expected a string";
    return false;
  }
  s.filename = fn.As<Napi::String>().Utf8Value();
  Napi::Value rw = o.Get("rw");
  std::string m = rw.IsString() ? rw.As<Napi::String>().Utf8Value() : "randread";
  static const char *modes[] = {"read", "write", "randread", "randwrite", "randrw", "rw", "verify"};
  s.mode = -1;
  for (int i = 0; i < 7; i++)
    if (m == modes[i]) s.mode = i;
  if (s.mode < 0) {
    err = "rw: unknown mode '" + m + "'";
    return false;
  }
  // viod (sdrain) stays UINT64_MAX (no number GetU64 takes) when verifyIodepth
  // (stopDrainTimeoutNs) is not given
  uint64_t bs = s.bs, iod = s.iodepth, viod = UINT64_MAX, vgap = s.verify_max_gap, mix = s.rwmixread,
           retries = UINT32_MAX, maxe = s.max_error_records, maxm = s.max_mismatch_records, sdrain = UINT64_MAX;
  double rate = 0;
  if (!GetU64(o, "bs", bs, err) || !GetU64(o, "iodepth", iod, err) || !GetU64(o, "verifyIodepth", viod, err) ||
      !GetU64(o, "verifyMaxGap", vgap, err) || !GetU64(o, "offset", s.offset, err) ||
      !GetU64(o, "size", s.size, err) || !GetU64(o, "runtimeNs", s.runtime_ns, err) ||
      !GetU64(o, "ios", s.ios, err) || !GetU64(o, "seed", s.seed, err) ||
      !GetU64(o, "intervalNs", s.interval_ns, err) || !GetU64(o, "gapThresholdNs", s.gap_threshold_ns, err) ||
      !GetU64(o, "backoffNs", s.backoff_ns, err) || !GetU64(o, "progressNs", s.progress_ns, err) ||
      !GetU64(o, "rwmixread", mix, err) || !GetU64(o, "drainTimeoutNs", s.drain_timeout_ns, err) ||
      !GetU64(o, "stopDrainTimeoutNs", sdrain, err) ||
      !GetU64(o, "maxErrorRecords", maxe, err) || !GetU64(o, "maxMismatchRecords", maxm, err))
    return false;
  Napi::Value mr = o.Get("maxRetries");
  if (mr.IsNumber() && std::isfinite(mr.As<Napi::Number>().DoubleValue())) {
    if (!GetU64(o, "maxRetries", retries, err)) return false;
    if (retries > UINT32_MAX - 1) retries = UINT32_MAX - 1;
  }
  Napi::Value rv = o.Get("rateIops");
  if (rv.IsNumber()) rate = rv.As<Napi::Number>().DoubleValue();
  GetBool(o, "verify", s.verify);
  GetBool(o, "finalVerify", s.final_verify);
  GetBool(o, "fullCheck", s.full_check);
  GetBool(o, "direct", s.direct);
  GetBool(o, "create", s.create);
  GetBool(o, "fixedBuffers", s.fixed);
  using std::to_string;
  if (bs < limits::bsMin || bs > limits::bsMax || bs % limits::bsAlign) {
    err = "bs: must be a multiple of " + to_string(limits::bsAlign) + " between " + to_string(limits::bsMin) +
          " and " + to_string(limits::bsMax);
    return false;
  }
  if (iod < limits::iodepthMin || iod > limits::iodepthMax) {
    err = "iodepth: must be between " + to_string(limits::iodepthMin) + " and " + to_string(limits::iodepthMax);
    return false;
  }
  if (viod != UINT64_MAX && (viod < limits::iodepthMin || viod > limits::iodepthMax)) {
    err = "verifyIodepth: must be between " + to_string(limits::iodepthMin) + " and " + to_string(limits::iodepthMax);
    return false;
  }
  if (vgap > limits::verifyGapMax) {
    err = "verifyMaxGap: must be between 0 and " + to_string(limits::verifyGapMax);
    return false;
  }
  if (s.offset % limits::bsAlign) {
    err = "offset: must be a multiple of " + to_string(limits::bsAlign);
    return false;
  }
  if (mix > limits::rwmixreadMax) {
    err = "rwmixread: must be between 0 and " + to_string(limits::rwmixreadMax);
    return false;
  }
  if (!(rate >= 0) || !std::isfinite(rate)) {
    err = "rateIops: must be a non-negative number";
    return false;
  }
  if (s.interval_ns < limits::intervalNsMin) {
    err = "intervalNs: must be at least " + to_string(limits::intervalNsMin);
    return false;
  }
  if (s.progress_ns < limits::progressNsMin) s.progress_ns = limits::progressNsMin;
  s.bs = static_cast<uint32_t>(bs);
  s.iodepth = static_cast<uint32_t>(iod);
  s.verify_iodepth = viod == UINT64_MAX ? 0 : static_cast<uint32_t>(viod);
  s.verify_max_gap = static_cast<uint32_t>(vgap);
  s.stop_drain_timeout_ns = sdrain == UINT64_MAX ? s.drain_timeout_ns : sdrain;
  s.rwmixread = static_cast<uint32_t>(mix);
  s.max_retries = static_cast<uint32_t>(retries);
  s.max_error_records = static_cast<uint32_t>(std::min<uint64_t>(maxe, UINT32_MAX));
  s.max_mismatch_records = static_cast<uint32_t>(std::min<uint64_t>(maxm, UINT32_MAX));
  s.rate_iops = rate;
  if (s.mode == M_VERIFY) s.verify = true;
  Napi::Value stv = o.Get("state");
  if (stv.IsTypedArray() && stv.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    Napi::Uint8Array a = stv.As<Napi::Uint8Array>();
    if (a.ByteLength() < kStateHeader) {  // empty included: a state given is never "no state"
      err = "state: truncated: " + to_string(a.ByteLength()) + " bytes, shorter than the " + to_string(kStateHeader) +
            "-byte header";
      return false;
    }
    s.state.assign(a.Data(), a.Data() + a.ByteLength());
  } else if (!stv.IsUndefined() && !stv.IsNull()) {
    err = "state: expected a Buffer or Uint8Array";
    return false;
  }
  return true;
}

// Checks a state buffer against the job before a byte of it is used: the header's fields
// against each other (nblocks == size / bs) and against the buffer's length, so that the
// records setup() copies are all inside it, and every record against the format's rules.
// On success size is the recorded size. Returns "" or "state: <what is wrong>".
std::string CheckState(const Spec &s, uint64_t &size) {
  const std::vector<uint8_t> &b = s.state;
  if (b.size() < kStateHeader)
    return "state: truncated: " + std::to_string(b.size()) + " bytes, shorter than the " +
           std::to_string(kStateHeader) + "-byte header";
  uint32_t u32[4];
  uint64_t u64[4];
  std::memcpy(u32, b.data(), sizeof u32);
  std::memcpy(u64, b.data() + 16, sizeof u64);
  const uint64_t seed = u64[0], offset = u64[1], rsize = u64[2], nblocks = u64[3];
  if (u32[0] != kStateMagic || u32[1] != kStateVersion) return "state: not a reset-bench verify state";
  if (u32[2] < limits::bsMin || u32[2] > limits::bsMax || u32[2] % limits::bsAlign)
    return "state: corrupt header: block size " + std::to_string(u32[2]);
  if (rsize == 0 || rsize % u32[2] || nblocks != rsize / u32[2])
    return "state: corrupt header: size " + std::to_string(rsize) + " is not " + std::to_string(nblocks) +
           " blocks of " + std::to_string(u32[2]) + " bytes";
  if (nblocks > limits::verifyBlocksMax)
    return "state: corrupt header: " + std::to_string(nblocks) + " blocks (at most " +
           std::to_string(limits::verifyBlocksMax) + ")";
  const uint64_t want = kStateHeader + nblocks * sizeof(BlockState);  // no overflow: nblocks is bounded
  if (b.size() != want)
    return "state: truncated or padded: " + std::to_string(b.size()) + " bytes, the header says " +
           std::to_string(want);
  if (u32[2] != s.bs || offset != s.offset || (size && size != rsize) || seed != s.seed)
    return "state: recorded for another job (bs, offset, size and seed must match)";
  for (uint64_t i = 0; i < nblocks; i++) {
    BlockState r;
    std::memcpy(&r, b.data() + kStateHeader + i * sizeof r, sizeof r);
    if (r.acked > r.issued || r.issued > limits::generationMax)
      return "state: corrupt record of block " + std::to_string(i) + " (acked " + std::to_string(r.acked) +
             ", issued " + std::to_string(r.issued) + ")";
  }
  size = rsize;
  return "";
}

// Opens the target; fills size/nblocks. Returns "" or an error message.
std::string OpenTarget(Job &j, Result &r, int &eno) {
  Spec &s = j.spec;
  bool writes = s.mode != M_READ && s.mode != M_RANDREAD && s.mode != M_VERIFY;
  int flags = (writes ? O_RDWR : O_RDONLY) | O_CLOEXEC;
  // Never create under /dev: a block device that vanished (or is not there yet) must be
  // an error, not a regular file on devtmpfs that silently absorbs the writes.
  bool under_dev = s.filename.rfind("/dev/", 0) == 0;
  if (s.create && writes && !under_dev) flags |= O_CREAT;
  int fd = -1;
  j.direct = s.direct;
  if (s.direct) {
    fd = open(s.filename.c_str(), flags | O_DIRECT, 0644);
    if (fd < 0 && errno == EINVAL && !under_dev) j.direct = false;  // e.g. tmpfs: buffered fallback
  }
  if (fd < 0 && !j.direct) fd = open(s.filename.c_str(), flags, 0644);
  if (fd < 0) {
    eno = errno;
    return "filename: cannot open " + s.filename + ": " + strerror(errno);
  }
  j.fd = fd;
  r.direct = j.direct;
  struct stat sb;
  if (fstat(fd, &sb) < 0) {
    eno = errno;
    return std::string("fstat: ") + strerror(errno);
  }
  uint64_t tsize = 0;
  if (S_ISBLK(sb.st_mode)) {
    if (ioctl(fd, BLKGETSIZE64, &tsize) < 0) {
      eno = errno;
      return std::string("BLKGETSIZE64: ") + strerror(errno);
    }
  } else if (S_ISREG(sb.st_mode)) {
    tsize = static_cast<uint64_t>(sb.st_size);
  } else {
    eno = EINVAL;
    return "filename: " + s.filename + " is neither a block device nor a regular file";
  }
  uint64_t size = s.size;
  if (!s.state.empty()) {
    std::string bad = CheckState(s, size);
    if (!bad.empty()) return bad;
  }
  if (size == 0) {
    if (tsize <= s.offset) return "size: the target has no room after offset (give --size)";
    size = tsize - s.offset;
  }
  size -= size % s.bs;
  if (size == 0) return "size: smaller than one block";
  if (S_ISREG(sb.st_mode) && tsize < s.offset + size) {
    if (!writes) return "size: the file is smaller than offset+size";
    if (ftruncate(fd, static_cast<off_t>(s.offset + size)) < 0) {
      eno = errno;
      return std::string("ftruncate: ") + strerror(errno);
    }
  } else if (S_ISBLK(sb.st_mode) && tsize < s.offset + size) {
    return "size: offset+size is beyond the end of the device";
  }
  r.size = size;
  r.nblocks = size / s.bs;
  if (s.runtime_ns == 0 && s.ios == 0) s.ios = r.nblocks;  // one pass, as fio does
  if ((s.verify || !s.state.empty()) && r.nblocks > limits::verifyBlocksMax)
    return "size: too many blocks to keep a verify record (at most " + std::to_string(limits::verifyBlocksMax) +
           " blocks)";
  if (s.mode == M_VERIFY && s.state.empty()) return "state: verify needs the state of an earlier job";
  return "";
}

// A JS function that sets one of the job's flags; it keeps the job alive while it lives.
using JobFlag = std::atomic<bool> Job::*;
using FlagHolder = std::pair<std::shared_ptr<Job>, JobFlag>;
Napi::Function FlagSetter(Napi::Env env, const std::shared_ptr<Job> &job, const char *name, JobFlag flag) {
  auto *holder = new FlagHolder(job, flag);
  Napi::Function f = Napi::Function::New(
      env,
      [](const Napi::CallbackInfo &i) -> Napi::Value {
        auto *h = static_cast<FlagHolder *>(i.Data());
        ((*h->first).*(h->second)).store(true);
        return i.Env().Undefined();
      },
      name, holder);
  f.AddFinalizer([](Napi::Env, FlagHolder *h) { delete h; }, holder);
  return f;
}

// startJob(spec, onProgress?) -> { promise, stop(), finish() }
Napi::Value StartJob(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    Napi::TypeError::New(env, "startJob(spec, onProgress?)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto job = std::make_shared<Job>();
  std::string err;
  if (!ParseSpec(info[0].As<Napi::Object>(), job->spec, err)) {
    Napi::Error e = Napi::Error::New(env, err);
    e.Set("code", Napi::String::New(env, "ERR_LOAD_SPEC"));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto res = std::make_unique<Result>();
  int eno = 0;
  err = OpenTarget(*job, *res, eno);
  if (!err.empty()) {
    if (job->fd >= 0) close(job->fd);
    Napi::Error e = Napi::Error::New(env, err);
    e.Set("code", Napi::String::New(env, eno ? "ERR_LOAD_TARGET" : "ERR_LOAD_SPEC"));
    if (eno) e.Set("errno", Napi::Number::New(env, eno));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Function cb;
  if (info.Length() > 1 && info[1].IsFunction()) cb = info[1].As<Napi::Function>();
  else cb = Napi::Function::New(env, [](const Napi::CallbackInfo &i) { return i.Env().Undefined(); });
  Ctx *ctx = new Ctx(env);
  Napi::Promise promise = ctx->deferred.Promise();
  // The finalizer runs on this thread once the job's thread released the TSFN: a job that
  // could not even post its result still settles its promise.
  job->tsfn = Tsfn::New(
      env, cb, "reset-bench-uring", 0, 1, ctx,
      [](Napi::Env fenv, void *, Ctx *c) {
        if (fenv != nullptr) c->Reject(Napi::Error::New(fenv, "engine: the job ended without a result").Value());
        delete c;
      },
      static_cast<void *>(nullptr));
  try {
    std::thread(RunThread, job, std::move(res)).detach();
  } catch (const std::system_error &ex) {  // no thread (EAGAIN): the TSFN must not keep node alive
    close(job->fd);
    job->fd = -1;
    ctx->settled = true;  // its promise never reached JS: the finalizer must not reject it
    job->tsfn.Release();
    Napi::Error e = Napi::Error::New(env, std::string("engine: cannot start the job's thread: ") + ex.what());
    e.Set("code", Napi::String::New(env, "ERR_LOAD_ENGINE"));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }

  Napi::Object handle = Napi::Object::New(env);
  handle.Set("promise", promise);
  handle.Set("stop", FlagSetter(env, job, "stop", &Job::stop));
  handle.Set("finish", FlagSetter(env, job, "finish", &Job::finish));
  return handle;
}

// uringProbe(): 0 if a ring can be set up here, else -errno.
Napi::Value UringProbe(const Napi::CallbackInfo &info) {
  struct io_uring ring;
  int ret = io_uring_queue_init(4, &ring, 0);
  if (ret == 0) io_uring_queue_exit(&ring);
  return Napi::Number::New(info.Env(), ret);
}

// xxh64(buf, seed?) -> hex string (for tests of the block format)
Napi::Value Xxh64(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) {
    Napi::TypeError::New(env, "xxh64(buffer, seed?)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Uint8Array a = info[0].As<Napi::Uint8Array>();
  uint64_t seed = 0;
  if (info.Length() > 1 && info[1].IsBigInt()) {
    bool l;
    seed = info[1].As<Napi::BigInt>().Uint64Value(&l);
  } else if (info.Length() > 1 && info[1].IsNumber()) {
    seed = static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue());
  }
  char hex[24];
  snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(blk::xxh64(a.Data(), a.ByteLength(), seed)));
  return Napi::String::New(env, hex);
}

// formatBlock(bs, seed, offset, gen) -> Buffer with the block the engine would write
Napi::Value FormatBlock(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber() ||
      !info[3].IsNumber()) {
    Napi::TypeError::New(env, "formatBlock(bs, seed, offset, gen)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint32_t bs = info[0].As<Napi::Number>().Uint32Value();
  uint64_t v[3];
  for (int i = 0; i < 3; i++) v[i] = static_cast<uint64_t>(info[i + 1].As<Napi::Number>().DoubleValue());
  if (bs < limits::bsMin || bs > limits::bsMax || bs % limits::bsAlign) {
    Napi::RangeError::New(env, "bs").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Buffer<uint8_t> b = Napi::Buffer<uint8_t>::New(env, bs);
  std::vector<uint64_t> pat((bs - blk::kHeaderSize) / 8);
  blk::make_pattern(pat.data(), pat.size(), v[0]);
  blk::format_block(b.Data(), bs, v[0], v[1], v[2], now_ns(), pat.data());
  return b;
}

// planReads(records, maxBlocks, maxGap) -> [first, count, first, count, ...]: the final
// pass's reads (verify_plan.h) over a record given as {acked, issued} pairs.
Napi::Value PlanReads(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array || !info[1].IsNumber() ||
      !info[2].IsNumber() || info[0].As<Napi::Uint32Array>().ElementLength() % 2) {
    Napi::TypeError::New(env, "planReads(Uint32Array of {acked, issued} pairs, maxBlocks, maxGap)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Uint32Array a = info[0].As<Napi::Uint32Array>();
  const uint64_t nblocks = a.ElementLength() / 2;
  std::vector<BlockState> st(nblocks);
  if (nblocks) std::memcpy(st.data(), a.Data(), nblocks * sizeof(BlockState));
  const plan::Limits lim{info[1].As<Napi::Number>().Uint32Value(), info[2].As<Napi::Number>().Uint32Value()};
  std::vector<double> out;
  uint64_t cursor = 0, first = 0;
  uint32_t count = 0;
  while (plan::next_read(st.data(), nblocks, cursor, lim, first, count)) {
    out.push_back(static_cast<double>(first));
    out.push_back(count);
  }
  Napi::Float64Array r = Napi::Float64Array::New(env, out.size());
  for (size_t i = 0; i < out.size(); i++) r[i] = out[i];
  return r;
}

// The limits table (limits.h), frozen: src/load/limits.ts builds its checks from it.
Napi::Object LimitsObject(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
#define RB_LIMIT_SET(name, value) o.Set(#name, Num(env, limits::name));
  RB_LOADER_LIMITS(RB_LIMIT_SET)
#undef RB_LIMIT_SET
  o.Freeze();
  return o;
}

}  // namespace

void InitUring(Napi::Env env, Napi::Object exports) {
  exports.Set("limits", LimitsObject(env));
  exports.Set("uringStartJob", Napi::Function::New(env, Guarded<StartJob>));
  // test hooks, typed in test/helpers/uring-scratch.ts (a run never calls them): whether
  // a ring can be set up here, XXH64 reference values, the exact block the engine writes
  // and the final pass's read plan
  exports.Set("uringProbe", Napi::Function::New(env, Guarded<UringProbe>));
  exports.Set("uringXxh64", Napi::Function::New(env, Guarded<Xxh64>));
  exports.Set("uringFormatBlock", Napi::Function::New(env, Guarded<FormatBlock>));
  exports.Set("uringPlanReads", Napi::Function::New(env, Guarded<PlanReads>));
}
}  // namespace rb
