// SPDX-License-Identifier: GPL-2.0-only
// Entry points each part of the addon registers on the module's exports.
#pragma once
#include <napi.h>

namespace rb {
void InitNetlink(Napi::Env env, Napi::Object exports);
void InitUring(Napi::Env env, Napi::Object exports);
}  // namespace rb
