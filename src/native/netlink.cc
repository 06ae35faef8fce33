// SPDX-License-Identifier: GPL-2.0-only
// Raw netlink socket for the orchestrator. Deliberately thin: open/bind, socket
// options, send, receive with a deadline, close. Every message codec is in
// TypeScript (src/orchestrate/netlink/).
//
// JS API (all fds are plain numbers; errors are Error objects with `code` set to
// the errno name, e.g. 'EPROTONOSUPPORT', and `errno` to its number):
//   nlOpen(protocol, groups = 0, netnsPath?) -> { fd, portid }
//       socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, protocol), a large receive buffer,
//       NETLINK_EXT_ACK on (best effort), bind(nl_groups = groups). With netnsPath
//       (e.g. /run/netns/NAME) the socket is created in that network namespace; the
//       calling thread returns to its own namespace before nlOpen returns.
//   nlSendAsync(fd, buffer) -> Promise<bytes>
//       sendto the kernel (nl_pid 0) on a worker thread. The kernel handles a request
//       in the sender's sendto: an RDMA DELLINK returns only when the device is
//       unregistered, which a stuck kernel may hold for minutes (stock 6.1 with a
//       controller connecting over it). On the caller's thread that froze the guest
//       agent's whole event loop; here only this worker waits.
//   nlRecvAsync(fd, timeoutMs, max = 256) -> Promise<Buffer[]>
//       on a worker thread: waits up to timeoutMs (poll) for the first datagram, then
//       drains what is queued without waiting; [] on timeout. Datagrams from any sender
//       other than the kernel (nl_pid != 0, e.g. udevd's re-broadcast) are dropped.
//       An error after some datagrams were read (ENOBUFS: the kernel dropped messages)
//       is kept and rejects the next call on that fd: the kernel reports it only once.
//   nlClose(fd)
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "addon.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

namespace rb {
namespace {

std::string ErrnoName(int err) {
  const char *n = strerrorname_np(err);
  return n ? std::string(n) : ("E" + std::to_string(err));
}

Napi::Error MakeErrnoError(Napi::Env env, const std::string &what, int err) {
  Napi::Error e = Napi::Error::New(env, what + ": " + ErrnoName(err) + " (" + strerror(err) + ")");
  e.Set("code", Napi::String::New(env, ErrnoName(err)));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, what));
  return e;
}

Napi::Value ThrowErrno(Napi::Env env, const std::string &what, int err) {
  MakeErrnoError(env, what, err).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowType(Napi::Env env, const char *msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Errors met after a partial read, per fd, for the next receive on it. The kernel reports
// a receive-queue overrun (ENOBUFS) once: returning the datagrams read so far without it
// would lose the only sign that messages were dropped. Guarded by a mutex: receives run
// on worker threads.
std::mutex pending_mu;
std::unordered_map<int, int> pending_err;

void SetPending(int fd, int err) {
  std::lock_guard<std::mutex> lock(pending_mu);
  pending_err[fd] = err;
}

int TakePending(int fd) {
  std::lock_guard<std::mutex> lock(pending_mu);
  auto it = pending_err.find(fd);
  if (it == pending_err.end()) return 0;
  int err = it->second;
  pending_err.erase(it);
  return err;
}

// Receives up to `max` datagrams: waits up to timeoutMs for the first one, then
// takes what is already queued. Returns 0 or an errno.
int RecvMessages(int fd, int timeoutMs, size_t max, std::vector<std::vector<uint8_t>> &out) {
  int64_t deadline = NowMs() + (timeoutMs < 0 ? 0 : timeoutMs);
  while (out.size() < max) {
    int wait = 0;
    if (out.empty()) {
      int64_t left = deadline - NowMs();
      wait = left > 0 ? int(left) : 0;
    }
    struct pollfd pfd = {fd, POLLIN, 0};
    int pr = poll(&pfd, 1, wait);
    if (pr < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (pr == 0) return 0;  // deadline (first message) or queue drained
    if (pfd.revents & POLLNVAL) return EBADF;
    // Size the datagram first so that big dump replies are never truncated.
    ssize_t len = recv(fd, nullptr, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
    if (len < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return errno;  // ENOBUFS: the kernel dropped messages (receive queue overrun)
    }
    std::vector<uint8_t> buf(size_t(len) > 0 ? size_t(len) : 1);
    struct sockaddr_nl from;
    memset(&from, 0, sizeof(from));
    struct iovec iov = {buf.data(), buf.size()};
    struct msghdr mh;
    memset(&mh, 0, sizeof(mh));
    mh.msg_name = &from;
    mh.msg_namelen = sizeof(from);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return errno;
    }
    if (from.nl_pid != 0) continue;  // not from the kernel
    buf.resize(size_t(n));
    out.push_back(std::move(buf));
  }
  return 0;
}

Napi::Array ToBuffers(Napi::Env env, std::vector<std::vector<uint8_t>> &msgs) {
  Napi::Array arr = Napi::Array::New(env, msgs.size());
  for (size_t i = 0; i < msgs.size(); i++)
    arr.Set(uint32_t(i), Napi::Buffer<uint8_t>::Copy(env, msgs[i].data(), msgs[i].size()));
  return arr;
}

// socket() in another network namespace: setns there, create, setns back.
int SocketIn(const std::string &nsPath, int protocol, int *err) {
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) {
    *err = errno;
    return -1;
  }
  int target = open(nsPath.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    *err = errno;
    close(self);
    return -1;
  }
  int fd = -1;
  if (setns(target, CLONE_NEWNET) < 0) {
    *err = errno;
  } else {
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (fd < 0) *err = errno;
    if (setns(self, CLONE_NEWNET) < 0) abort();  // never leave the JS thread elsewhere
  }
  close(target);
  close(self);
  return fd;
}

Napi::Value Open(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowType(env, "nlOpen(protocol, groups?, netnsPath?)");
  int protocol = info[0].As<Napi::Number>().Int32Value();
  uint32_t groups = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0;
  int fd, err = 0;
  if (info.Length() > 2 && info[2].IsString()) {
    fd = SocketIn(info[2].As<Napi::String>().Utf8Value(), protocol, &err);
  } else {
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    err = errno;
  }
  if (fd < 0) return ThrowErrno(env, "socket(AF_NETLINK, " + std::to_string(protocol) + ")", err);
  int rcvbuf = 4 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  int one = 1;
  bool extAck = setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) == 0;
  struct sockaddr_nl sa;
  memset(&sa, 0, sizeof(sa));
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = groups;
  if (bind(fd, reinterpret_cast<struct sockaddr *>(&sa), sizeof(sa)) < 0) {
    err = errno;
    close(fd);
    return ThrowErrno(env, "bind(netlink groups=" + std::to_string(groups) + ")", err);
  }
  socklen_t sl = sizeof(sa);
  if (getsockname(fd, reinterpret_cast<struct sockaddr *>(&sa), &sl) < 0) {
    err = errno;
    close(fd);
    return ThrowErrno(env, "getsockname(netlink)", err);
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("fd", Napi::Number::New(env, fd));
  r.Set("portid", Napi::Number::New(env, sa.nl_pid));
  r.Set("extAck", Napi::Boolean::New(env, extAck));
  return r;
}

class SendWorker : public Napi::AsyncWorker {
 public:
  SendWorker(Napi::Env env, int fd, const uint8_t *data, size_t len)
      : Napi::AsyncWorker(env), fd_(fd), msg_(data, data + len), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    struct sockaddr_nl to;
    memset(&to, 0, sizeof(to));
    to.nl_family = AF_NETLINK;
    do {
      sent_ = sendto(fd_, msg_.data(), msg_.size(), 0, reinterpret_cast<struct sockaddr *>(&to), sizeof(to));
    } while (sent_ < 0 && errno == EINTR);
    if (sent_ < 0) err_ = errno;
  }
  void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (err_)
      deferred_.Reject(MakeErrnoError(env, "sendto(netlink)", err_).Value());
    else
      deferred_.Resolve(Napi::Number::New(env, double(sent_)));
  }

 private:
  int fd_;
  std::vector<uint8_t> msg_;  // a copy: the caller's buffer may change meanwhile
  ssize_t sent_ = 0;
  int err_ = 0;
  Napi::Promise::Deferred deferred_;
};

Napi::Value SendAsync(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBuffer())
    return ThrowType(env, "nlSendAsync(fd, buffer)");
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<uint8_t> b = info[1].As<Napi::Buffer<uint8_t>>();
  auto *w = new SendWorker(env, fd, b.Data(), b.Length());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

class RecvWorker : public Napi::AsyncWorker {
 public:
  RecvWorker(Napi::Env env, int fd, int timeout, size_t max)
      : Napi::AsyncWorker(env), fd_(fd), timeout_(timeout), max_(max), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  // A receive: an error left by the previous one first; an error after some datagrams
  // is kept for the next. Runs on a worker thread, so nothing may throw out of it.
  void Execute() override {
    try {
      err_ = TakePending(fd_);
      if (err_) return;
      err_ = RecvMessages(fd_, timeout_, max_, msgs_);
      if (err_ && !msgs_.empty()) SetPending(fd_, err_);
    } catch (const std::exception &e) {
      SetError(std::string("nlRecvAsync: ") + e.what());
    }
  }
  void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (err_ && msgs_.empty())
      deferred_.Reject(MakeErrnoError(env, "recv(netlink)", err_).Value());
    else
      deferred_.Resolve(ToBuffers(env, msgs_));
  }

 private:
  int fd_, timeout_;
  size_t max_;
  int err_ = 0;
  std::vector<std::vector<uint8_t>> msgs_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value RecvAsync(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber())
    return ThrowType(env, "nlRecvAsync(fd, timeoutMs, max?)");
  int fd = info[0].As<Napi::Number>().Int32Value();
  int timeout = info[1].As<Napi::Number>().Int32Value();
  size_t max = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value() : 256;
  auto *w = new RecvWorker(env, fd, timeout, max ? max : 1);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value Close(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowType(env, "nlClose(fd)");
  int fd = info[0].As<Napi::Number>().Int32Value();
  TakePending(fd);  // the number may be reused by the next socket
  if (close(fd) < 0) return ThrowErrno(env, "close(netlink)", errno);
  return env.Undefined();
}

}  // namespace

void InitNetlink(Napi::Env env, Napi::Object exports) {
  exports.Set("nlOpen", Napi::Function::New(env, Guarded<Open>));
  exports.Set("nlSendAsync", Napi::Function::New(env, Guarded<SendAsync>));
  exports.Set("nlRecvAsync", Napi::Function::New(env, Guarded<RecvAsync>));
  exports.Set("nlClose", Napi::Function::New(env, Guarded<Close>));
}
}  // namespace rb
