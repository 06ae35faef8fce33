// SPDX-License-Identifier: GPL-2.0-only
// Entry points each part of the addon registers on the module's exports, and the guard
// every JS-callable function goes through.
#pragma once
#include <napi.h>

#include <exception>
#include <new>
#include <string>

namespace rb {
void InitNetlink(Napi::Env env, Napi::Object exports);
void InitUring(Napi::Env env, Napi::Object exports);

// The addon is built without node-addon-api's C++ exceptions, so a std::bad_alloc (or any
// std::exception) leaving a callback would be std::terminate: node aborting, taking every
// VM with it. Guarded<F> turns it into a JS Error with code ERR_NATIVE instead.
template <Napi::Value (*F)(const Napi::CallbackInfo &)>
Napi::Value Guarded(const Napi::CallbackInfo &info) {
  std::string what;
  try {
    return F(info);
  } catch (const std::bad_alloc &) {
    what = "out of memory";
  } catch (const std::exception &e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  Napi::Env env = info.Env();
  if (env.IsExceptionPending()) return env.Undefined();
  Napi::Error err = Napi::Error::New(env, "native: " + what);
  err.Set("code", Napi::String::New(env, "ERR_NATIVE"));
  err.ThrowAsJavaScriptException();
  return env.Undefined();
}
}  // namespace rb
