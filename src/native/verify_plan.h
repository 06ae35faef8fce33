// SPDX-License-Identifier: GPL-2.0-only
// The final pass's read plan: which blocks it reads, in which reads. Pure, no
// allocation, so that the engine walks it on its hot path and a test hook
// (uringPlanReads, test/unit/load-read-plan.test.ts) walks the very same code.
//
// Why a plan at all: under TCG on soft-RoCE a read costs by the byte (every byte
// crosses the emulated NIC and its ICRC), so reading whole windows over a sparse
// record read four times the bytes that were written. A read here starts at a block
// with a record and ends at one: it covers exactly the recorded blocks, adjacent ones
// coalesced, and at most `max_gap` unrecorded blocks between two recorded ones (0: none,
// every byte read is a byte some write touched), never more than `max_blocks` in all.
#pragma once
#include <cstdint>

namespace rb {

// The record of one block (STATE FORMAT in uring_engine.cc): the last acknowledged and
// the last issued generation, 0 for none.
struct BlockState {
  uint32_t acked;
  uint32_t issued;
};

namespace plan {

// A block has a record when a write of it was acknowledged or issued (its outcome
// unknown): the final pass reads every such block and checks it on its own.
static inline bool recorded(const BlockState &b) { return b.acked != 0 || b.issued != 0; }

struct Limits {
  uint32_t max_blocks;  // blocks one read may span (>= 1)
  uint32_t max_gap;     // unrecorded blocks one read may span between two recorded ones
};

// The next read from block `cursor` on: [first, first + count). Advances `cursor` past
// it; false when no recorded block is left at or after `cursor`.
static inline bool next_read(const BlockState *st, uint64_t nblocks, uint64_t &cursor, const Limits &lim,
                             uint64_t &first, uint32_t &count) {
  uint64_t b = cursor;
  while (b < nblocks && !recorded(st[b])) b++;
  if (b >= nblocks) {
    cursor = nblocks;
    return false;
  }
  const uint64_t max_blocks = lim.max_blocks ? lim.max_blocks : 1;
  const uint64_t end = nblocks - b < max_blocks ? nblocks : b + max_blocks;  // one past the last block it may span
  uint64_t last = b;
  for (uint64_t k = b + 1; k < end && k - last - 1 <= lim.max_gap; k++)
    if (recorded(st[k])) last = k;
  first = b;
  count = static_cast<uint32_t>(last - b + 1);
  cursor = last + 1;
  return true;
}

}  // namespace plan
}  // namespace rb
