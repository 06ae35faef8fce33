// SPDX-License-Identifier: GPL-2.0-only
// Block format of the verifying loader: header, payload, hash. Pure functions,
// no allocation: used on the engine's hot path.
#pragma once
#include <cstdint>
#include <cstring>

namespace rb {
namespace blk {

// "RBBLKV01" little-endian.
constexpr uint64_t kMagic = 0x3130564b4c424252ULL;
constexpr uint32_t kHeaderSize = 64;

// The first 64 bytes of every block the loader writes (when verify is on).
struct Header {
  uint64_t magic;
  uint64_t offset;        // byte offset of the block on the target
  uint64_t gen;           // per-block generation, 1, 2, ...
  uint64_t write_ns;      // CLOCK_MONOTONIC when the write was prepared
  uint64_t seed;          // job seed (the payload derives from seed, offset, gen)
  uint32_t bs;            // block size
  uint32_t flags;
  uint64_t payload_hash;  // xxh64 of bytes [64, bs)
  uint64_t header_hash;   // xxh64 of bytes [0, 56)
};
static_assert(sizeof(Header) == kHeaderSize, "header is 64 bytes");

static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static inline uint64_t rd64(const uint8_t *p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
static inline uint32_t rd32(const uint8_t *p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// XXH64 (Yann Collet's algorithm), written out here.
constexpr uint64_t P1 = 11400714785074694791ULL, P2 = 14029467366897019727ULL,
                   P3 = 1609587929392839161ULL, P4 = 9650029242287828579ULL,
                   P5 = 2870177450012600261ULL;
static inline uint64_t xround(uint64_t acc, uint64_t in) {
  acc += in * P2;
  acc = rotl(acc, 31);
  return acc * P1;
}
static inline uint64_t xmerge(uint64_t acc, uint64_t v) {
  acc ^= xround(0, v);
  return acc * P1 + P4;
}
static inline uint64_t xxh64(const void *data, size_t len, uint64_t seed) {
  const uint8_t *p = static_cast<const uint8_t *>(data);
  const uint8_t *end = p + len;
  uint64_t h;
  if (len >= 32) {
    uint64_t v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;
    const uint8_t *limit = end - 32;
    do {
      v1 = xround(v1, rd64(p));
      v2 = xround(v2, rd64(p + 8));
      v3 = xround(v3, rd64(p + 16));
      v4 = xround(v4, rd64(p + 24));
      p += 32;
    } while (p <= limit);
    h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
    h = xmerge(h, v1);
    h = xmerge(h, v2);
    h = xmerge(h, v3);
    h = xmerge(h, v4);
  } else {
    h = seed + P5;
  }
  h += len;
  while (p + 8 <= end) {
    h ^= xround(0, rd64(p));
    h = rotl(h, 27) * P1 + P4;
    p += 8;
  }
  if (p + 4 <= end) {
    h ^= static_cast<uint64_t>(rd32(p)) * P1;
    h = rotl(h, 23) * P2 + P3;
    p += 4;
  }
  while (p < end) {
    h ^= (*p) * P5;
    h = rotl(h, 11) * P1;
    p++;
  }
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
  return h;
}

static inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The payload of the block at (seed, offset, gen): word i = pattern[i] ^ key, where the
// pattern (per seed and block size, computed once per job) makes every word position-
// dependent and key = f(seed, offset, gen) makes every block and generation distinct.
// One XOR per word: writes with verify cost little more than the checksum.
static inline uint64_t payload_key(uint64_t seed, uint64_t offset, uint64_t gen) {
  return mix64(seed ^ mix64(offset + 0x9e3779b97f4a7c15ULL) ^ mix64(gen * 0xd6e8feb86659fd93ULL));
}
static inline void make_pattern(uint64_t *pat, size_t words, uint64_t seed) {
  for (size_t i = 0; i < words; i++) pat[i] = mix64(seed * 0x2545f4914f6cdd1dULL + i * 0x9e3779b97f4a7c15ULL);
}
// len must be a multiple of 8 (bs is a multiple of 512, the header 64 bytes).
static inline void fill_payload(uint8_t *dst, size_t len, const uint64_t *pat, uint64_t key) {
  size_t words = len / 8;
  for (size_t i = 0; i < words; i++) {
    uint64_t z = pat[i] ^ key;
    std::memcpy(dst + i * 8, &z, 8);
  }
}
static inline bool payload_matches(const uint8_t *src, size_t len, const uint64_t *pat, uint64_t key) {
  size_t words = len / 8;
  uint64_t diff = 0;
  for (size_t i = 0; i < words; i++) diff |= rd64(src + i * 8) ^ pat[i] ^ key;
  return diff == 0;
}

// Writes a whole block (header + payload) into buf; pat from make_pattern(seed, (bs-64)/8).
static inline void format_block(uint8_t *buf, uint32_t bs, uint64_t seed, uint64_t offset,
                                uint64_t gen, uint64_t write_ns, const uint64_t *pat) {
  fill_payload(buf + kHeaderSize, bs - kHeaderSize, pat, payload_key(seed, offset, gen));
  Header h;
  h.magic = kMagic;
  h.offset = offset;
  h.gen = gen;
  h.write_ns = write_ns;
  h.seed = seed;
  h.bs = bs;
  h.flags = 0;
  h.payload_hash = xxh64(buf + kHeaderSize, bs - kHeaderSize, seed);
  h.header_hash = xxh64(&h, 56, seed);
  std::memcpy(buf, &h, sizeof h);
}

enum Verdict : int {
  V_OK = 0,          // holds the acknowledged generation
  V_OK_INFLIGHT,     // holds a generation whose write was not acknowledged (legal)
  V_OK_UNWRITTEN,    // no header, and no write was ever acknowledged (legal)
  V_OK_UNKNOWN,      // a block we have no record of, self-consistent or foreign
  V_LOST,            // an older generation than the acknowledged one: a lost write
  V_MISSING,         // no header where an acknowledged write should be: a lost write
  V_TORN,            // header or payload hash mismatch: torn or corrupt
  V_CORRUPT,         // hashes fine but the payload is not the one derived from (seed, offset, gen)
  V_MISPLACED,       // a valid block for another offset/seed/bs
  V_FUTURE,          // a generation never issued
};

static inline const char *verdict_name(int v) {
  switch (v) {
    case V_OK: return "ok";
    case V_OK_INFLIGHT: return "ok-inflight";
    case V_OK_UNWRITTEN: return "ok-unwritten";
    case V_OK_UNKNOWN: return "ok-unknown";
    case V_LOST: return "lost";
    case V_MISSING: return "missing";
    case V_TORN: return "torn";
    case V_CORRUPT: return "corrupt";
    case V_MISPLACED: return "misplaced";
    case V_FUTURE: return "future";
  }
  return "?";
}
static inline bool verdict_bad(int v) { return v >= V_LOST; }

struct Check {
  int verdict;
  uint64_t found_gen;
  uint64_t found_hash;     // payload hash stored in the header
  uint64_t computed_hash;  // payload hash of what was read
  uint64_t found_offset;
  uint64_t found_write_ns;
};

// Checks a block read from `offset` against what the record says may be there:
// acked = last acknowledged generation (0: none), issued = last issued generation.
// Legal: acked <= found <= issued, or (acked == 0 and no header).
// pat: the job's pattern, or nullptr to skip the payload comparison (hash only).
static inline Check check_block(const uint8_t *buf, uint32_t bs, uint64_t seed, uint64_t offset,
                                uint64_t acked, uint64_t issued, const uint64_t *pat) {
  Check c{};
  Header h;
  std::memcpy(&h, buf, sizeof h);
  bool known = acked != 0 || issued != 0;
  if (h.magic != kMagic) {
    c.verdict = !known ? V_OK_UNKNOWN : acked == 0 ? V_OK_UNWRITTEN : V_MISSING;
    return c;
  }
  c.found_gen = h.gen;
  c.found_hash = h.payload_hash;
  c.found_offset = h.offset;
  c.found_write_ns = h.write_ns;
  if (!known && (h.seed != seed || h.offset != offset || h.bs != bs)) {
    c.verdict = V_OK_UNKNOWN;  // a block from some other job: not ours to judge
    return c;
  }
  if (xxh64(&h, 56, seed) != h.header_hash) {
    c.verdict = V_TORN;
    return c;
  }
  if (h.offset != offset || h.seed != seed || h.bs != bs) {
    c.verdict = V_MISPLACED;
    return c;
  }
  c.computed_hash = xxh64(buf + kHeaderSize, bs - kHeaderSize, seed);
  if (c.computed_hash != h.payload_hash) {
    c.verdict = V_TORN;
    return c;
  }
  if (pat && !payload_matches(buf + kHeaderSize, bs - kHeaderSize, pat, payload_key(seed, offset, h.gen))) {
    c.verdict = V_CORRUPT;
    return c;
  }
  if (!known) {
    c.verdict = V_OK_UNKNOWN;
    return c;
  }
  uint64_t hi = issued > acked ? issued : acked;
  if (acked == 0)  // whatever was there before our first write is legal, if not torn
    c.verdict = h.gen >= 1 && h.gen <= hi ? V_OK_INFLIGHT : V_OK_UNWRITTEN;
  else if (h.gen < acked)
    c.verdict = V_LOST;
  else if (h.gen > hi)
    c.verdict = V_FUTURE;
  else
    c.verdict = h.gen == acked ? V_OK : V_OK_INFLIGHT;
  return c;
}

}  // namespace blk
}  // namespace rb
