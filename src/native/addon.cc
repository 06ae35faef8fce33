// SPDX-License-Identifier: GPL-2.0-only
// The reset-bench native addon: a raw netlink socket and the io_uring engine.
#include "addon.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  rb::InitNetlink(env, exports);
  rb::InitUring(env, exports);
  return exports;
}

NODE_API_MODULE(reset_bench_native, Init)
