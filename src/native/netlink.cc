// SPDX-License-Identifier: GPL-2.0-only
// Raw netlink socket (filled in by the orchestrator work).
#include "addon.h"

namespace rb {
void InitNetlink(Napi::Env env, Napi::Object exports) {
  exports.Set("netlinkAvailable", Napi::Boolean::New(env, false));
}
}  // namespace rb
