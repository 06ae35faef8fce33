// SPDX-License-Identifier: GPL-2.0-only
// io_uring engine (filled in by the loader work).
#include <liburing.h>
#include "addon.h"

namespace rb {
// Whether this kernel lets us set up a ring (seccomp or an old kernel may not).
static Napi::Value UringProbe(const Napi::CallbackInfo &info) {
  struct io_uring ring;
  int ret = io_uring_queue_init(4, &ring, 0);
  if (ret == 0)
    io_uring_queue_exit(&ring);
  return Napi::Number::New(info.Env(), ret);
}
void InitUring(Napi::Env env, Napi::Object exports) {
  exports.Set("uringProbe", Napi::Function::New(env, UringProbe));
}
}  // namespace rb
