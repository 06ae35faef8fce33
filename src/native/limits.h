// SPDX-License-Identifier: GPL-2.0-only
// The loader's limits: the ONE table both sides use. The engine checks every job spec
// and state file against it (memory safety does not trust the caller), and the addon
// exports it as `limits`, from which src/load/limits.ts builds the TypeScript checks and
// their messages. Change a limit here and both sides move together
// (test/unit/load-limits.test.ts proves they agree at every edge).
#pragma once
#include <cstdint>

namespace rb {
namespace limits {

// X(jsName, value): every value is an exact integer (< 2^53, so JS reads it losslessly).
#define RB_LOADER_LIMITS(X)                                                              \
  X(bsMin, 512)                     /* block size, bytes */                              \
  X(bsMax, 64ULL << 20)                                                                  \
  X(bsAlign, 512)                   /* bs and offset are multiples of this */            \
  X(iodepthMin, 1)                                                                       \
  X(iodepthMax, 4096)                                                                    \
  X(rwmixreadMax, 100)              /* percent */                                        \
  X(intervalNsMin, 1000)            /* timeline interval */                              \
  X(progressNsMin, 1000000)         /* shorter progress periods are raised to this */    \
  X(verifyBlocksMax, 256ULL << 20)  /* blocks a verify record may cover */               \
  X(stateHeaderBytes, 64)           /* STATE FORMAT, see uring_engine.cc */              \
  X(stateRecordBytes, 8)            /* {u32 acked, u32 issued} per block */              \
  X(stateMagic, 0x54534252)         /* "RBST" little-endian */                           \
  X(stateVersion, 1)                                                                     \
  X(generationMax, 0xfffffffeULL)   /* a record's generations stay below UINT32_MAX */   \
  X(verifyRetriesMax, 10)           /* read retries per block in the final pass */       \
  X(verifyGapMax, 1024)             /* unrecorded blocks a final-pass read may span */

#define RB_LIMIT_CONST(name, value) constexpr uint64_t name = (value);
RB_LOADER_LIMITS(RB_LIMIT_CONST)
#undef RB_LIMIT_CONST

}  // namespace limits
}  // namespace rb
