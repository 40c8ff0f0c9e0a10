// Batched UDP for the GeoDNS hot path (Linux).
//
// node:dgram makes one system call and one JavaScript callback per datagram, in each direction.
// This addon owns a non-blocking UDP socket polled by libuv; when it is readable it takes up to
// BATCH datagrams with one recvmmsg(2), hands them to JavaScript in one call through buffers that
// both sides share, and sends the replies JavaScript wrote back with one sendmmsg(2).
//
// Shared memory, allocated here as ArrayBuffers and kept alive by references:
//   rx    BATCH slots of RX_SLOT bytes: received datagrams
//   tx    BATCH slots of TX_SLOT bytes: replies
//   meta  Int32 [rxLen x BATCH][txLen x BATCH][txPeer x BATCH]
//         rxLen is -1 for a datagram larger than RX_SLOT (it is dropped); txPeer is the rx slot
//         of this batch whose sender gets the reply
//   peer  BATCH slots of PEER_SLOT bytes: byte 0 the length of the sender's address text, then
//         the text (as inet_ntop writes it)
// The callback gets the number of datagrams received and returns the number of replies.

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define BATCH 64
#define RX_SLOT 4096
#define TX_SLOT 4096
#define PEER_SLOT 64
// Batches taken per readable event before yielding to the event loop (TCP, timers, admin HTTP).
#define MAX_ROUNDS 16

typedef struct {
  napi_env env;
  uv_poll_t poll;
  int fd;
  int polling;
  int closed;
  // The poll handle and the JavaScript handle each own the struct; the last to go frees it.
  int owners;
  // Removed by close(); if the environment tears down first, removed once the poll handle has
  // closed, so that Node waits for that before it unloads the addon (see teardown()).
  napi_async_cleanup_hook_handle cleanup;
  napi_ref callback;
  napi_ref resource;
  napi_ref buffers[4];
  napi_async_context async;
  uint8_t* rx;
  uint8_t* tx;
  int32_t* meta;
  uint8_t* peer;
  struct mmsghdr rmsg[BATCH];
  struct mmsghdr smsg[BATCH];
  struct iovec riov[BATCH];
  struct iovec siov[BATCH];
  struct sockaddr_storage from[BATCH];
  double received;
  double sent;
  double send_dropped;
  double oversized;
} batch_socket;

#define CHECK(env, call)                                   \
  do {                                                     \
    if ((call) != napi_ok) {                               \
      napi_throw_error((env), NULL, "napi call failed: " #call); \
      return NULL;                                         \
    }                                                      \
  } while (0)

static napi_value throw_errno(napi_env env, const char* what, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_value msg, code, error;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  const char* name = err == EADDRINUSE ? "EADDRINUSE" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : err == EACCES ? "EACCES"
                   : err == EINVAL ? "EINVAL" : "ERR_SOCKET";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, msg, &error);
  napi_set_named_property(env, error, "code", code);
  napi_value errno_value;
  napi_create_int32(env, -err, &errno_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_throw(env, error);
  return NULL;
}

static void reset_receive(batch_socket* s) {
  for (int i = 0; i < BATCH; i++) {
    s->rmsg[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
    s->rmsg[i].msg_hdr.msg_flags = 0;
  }
}

// Dotted-quad text of an IPv4 address, as inet_ntop writes it (no leading zeros); returns its
// length. inet_ntop formats through vfprintf, which cost more per datagram than the rest of the
// receive path in a profile.
static int format_ipv4(const uint8_t* b, char* out) {
  int n = 0;
  for (int k = 0; k < 4; k++) {
    unsigned v = b[k];
    if (v >= 100) out[n++] = (char)('0' + v / 100);
    if (v >= 10) out[n++] = (char)('0' + v / 10 % 10);
    out[n++] = (char)('0' + v % 10);
    if (k < 3) out[n++] = '.';
  }
  out[n] = 0;
  return n;
}

static void write_peer(batch_socket* s, int i) {
  char* text = (char*)s->peer + i * PEER_SLOT + 1;
  const struct sockaddr_storage* a = &s->from[i];
  if (a->ss_family == AF_INET) {
    s->peer[i * PEER_SLOT] = (uint8_t)format_ipv4((const uint8_t*)&((const struct sockaddr_in*)a)->sin_addr, text);
    return;
  }
  const char* ok = NULL;
  if (a->ss_family == AF_INET6) ok = inet_ntop(AF_INET6, &((const struct sockaddr_in6*)a)->sin6_addr, text, PEER_SLOT - 1);
  s->peer[i * PEER_SLOT] = ok ? (uint8_t)strlen(text) : 0;
}

// Sends replies 0..count-1 to senders among the `received` datagrams of this batch (a slot past
// them still holds the address of an earlier batch's sender, who must not get this reply). A
// datagram the kernel refuses is dropped and counted; a full send buffer (EAGAIN) drops the rest
// of the batch, as a loaded DNS server must rather than queue.
static void send_replies(batch_socket* s, int count, int received) {
  int n = 0;
  for (int i = 0; i < count; i++) {
    int32_t len = s->meta[BATCH + i];
    int32_t to = s->meta[2 * BATCH + i];
    if (len <= 0 || len > TX_SLOT || to < 0 || to >= received) {
      s->send_dropped++;
      continue;
    }
    s->siov[n].iov_base = s->tx + i * TX_SLOT;
    s->siov[n].iov_len = (size_t)len;
    s->smsg[n].msg_hdr.msg_name = &s->from[to];
    s->smsg[n].msg_hdr.msg_namelen = s->rmsg[to].msg_hdr.msg_namelen;
    s->smsg[n].msg_hdr.msg_iov = &s->siov[n];
    s->smsg[n].msg_hdr.msg_iovlen = 1;
    s->smsg[n].msg_hdr.msg_control = NULL;
    s->smsg[n].msg_hdr.msg_controllen = 0;
    s->smsg[n].msg_hdr.msg_flags = 0;
    n++;
  }
  int done = 0;
  while (done < n) {
    int r = sendmmsg(s->fd, s->smsg + done, (unsigned)(n - done), MSG_DONTWAIT);
    if (r > 0) {
      done += r;
      s->sent += r;
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      s->send_dropped += n - done;
      return;
    } else {
      // This one datagram failed (an unreachable or invalid peer): skip it, send the others.
      done++;
      s->send_dropped++;
    }
  }
}

static void release(batch_socket* s, int from_hook);
static void on_readable(uv_poll_t* handle, int status, int events);

// Whether JavaScript may have detached a shared buffer (ArrayBuffer.prototype.transfer, or a
// transfer list where the wrapper's markAsUntransferable does not reach). Its memory then belongs
// to the new owner, who may free it: recvmmsg would write into freed memory. Then the socket is
// closed and the error raised as an uncaught exception, as a bug in a handler would be.
static int buffers_detached(batch_socket* s) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return 0;
  int detached = 0;
  for (int i = 0; i < 4 && !detached; i++) {
    napi_value ab;
    bool is = false;
    if (napi_get_reference_value(env, s->buffers[i], &ab) != napi_ok || ab == NULL ||
        napi_is_detached_arraybuffer(env, ab, &is) != napi_ok || is)
      detached = 1;
  }
  if (detached) {
    release(s, 0);
    napi_value code, msg, error;
    if (napi_create_string_utf8(env, "ERR_BATCHED_UDP_DETACHED", NAPI_AUTO_LENGTH, &code) == napi_ok &&
        napi_create_string_utf8(env, "a shared buffer of the batched UDP socket was detached; the socket is closed",
                                NAPI_AUTO_LENGTH, &msg) == napi_ok &&
        napi_create_error(env, code, msg, &error) == napi_ok &&
        napi_set_named_property(env, error, "code", code) == napi_ok)
      napi_fatal_exception(env, error);
  }
  napi_close_handle_scope(env, scope);
  return detached;
}

// Calls the JavaScript batch handler; returns the number of replies, or -1 if it threw.
static int deliver(batch_socket* s, int count) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return -1;
  int replies = -1;
  napi_value callback, resource, arg, result;
  if (napi_get_reference_value(env, s->callback, &callback) == napi_ok &&
      napi_get_reference_value(env, s->resource, &resource) == napi_ok &&
      napi_create_int32(env, count, &arg) == napi_ok) {
    napi_status st = napi_make_callback(env, s->async, resource, callback, 1, &arg, &result);
    if (st == napi_ok) {
      int32_t value = 0;
      if (napi_get_value_int32(env, result, &value) == napi_ok && value >= 0 && value <= BATCH) replies = value;
    } else {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value error;
        napi_get_and_clear_last_exception(env, &error);
        // Same as a throwing event listener: the process's uncaughtException handling decides.
        napi_fatal_exception(env, error);
      }
    }
  }
  napi_close_handle_scope(env, scope);
  return replies;
}

// On POLLERR (a pending socket error, or ICMP reports queued once IP_RECVERR is on) libuv stops
// the poll and reports UV_EBADF. The socket is still bound: returning would leave the server deaf
// on UDP for good. Reading SO_ERROR and the error queue clears both causes of POLLERR, so polling
// resumes without the event firing again at once (re-arming alone would spin on it).
static void resume_after_error(batch_socket* s) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return;  // not a socket: stay stopped
  char byte;
  for (int i = 0; i < BATCH; i++) {  // more left make POLLERR fire again, with progress each time
    struct iovec iov = {&byte, 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (recvmsg(s->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) break;
  }
  uv_poll_start(&s->poll, UV_READABLE, on_readable);
}

static void on_readable(uv_poll_t* handle, int status, int events) {
  batch_socket* s = (batch_socket*)handle->data;
  if (status < 0) {
    resume_after_error(s);
    return;
  }
  if (!(events & UV_READABLE)) return;
  // JavaScript ran since the last batch, and runs again in each deliver().
  if (buffers_detached(s)) return;
  for (int round = 0; round < MAX_ROUNDS && !s->closed; round++) {
    reset_receive(s);
    int n = recvmmsg(s->fd, s->rmsg, BATCH, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      // EAGAIN: drained. Another error is the socket's pending one, which this read cleared; it
      // carries no datagram, and the poll fires again for those still queued.
      return;
    }
    if (n == 0) return;
    for (int i = 0; i < n; i++) {
      int truncated = (s->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
      s->meta[i] = truncated ? -1 : (int32_t)s->rmsg[i].msg_len;
      if (truncated) s->oversized++;
      write_peer(s, i);
    }
    s->received += n;
    int replies = deliver(s, n);
    if (s->closed || buffers_detached(s)) return;
    if (replies > 0) send_replies(s, replies, n);
    if (n < BATCH) return;
  }
}

static void disown(batch_socket* s) {
  if (--s->owners == 0) free(s);
}

static void on_poll_closed(uv_handle_t* handle) {
  batch_socket* s = (batch_socket*)handle->data;
  if (s->cleanup) {
    // The environment is tearing down and waited for this close (teardown()).
    napi_remove_async_cleanup_hook(s->cleanup);
    s->cleanup = NULL;
  }
  disown(s);
}

static void release(batch_socket* s, int from_hook) {
  if (s->closed) return;
  s->closed = 1;
  napi_env env = s->env;
  if (!from_hook && s->cleanup) {
    napi_remove_async_cleanup_hook(s->cleanup);
    s->cleanup = NULL;
  }
  if (s->callback) napi_delete_reference(env, s->callback);
  if (s->resource) napi_delete_reference(env, s->resource);
  for (int i = 0; i < 4; i++)
    if (s->buffers[i]) napi_delete_reference(env, s->buffers[i]);
  if (s->async) napi_async_destroy(env, s->async);
  s->callback = s->resource = NULL;
  for (int i = 0; i < 4; i++) s->buffers[i] = NULL;
  s->async = NULL;
  // uv_close stops the poll, takes the descriptor out of the loop's watchers and invalidates its
  // pending events at once (uv__poll_close), as libuv's own UDP close does right before it closes
  // its descriptor; so it can be closed now: the port is free again when close() returns, as
  // with node:dgram.
  uv_close((uv_handle_t*)&s->poll, on_poll_closed);
  close(s->fd);
}

// The environment is going away (process exit, or a worker thread ending) with the socket open.
// A synchronous cleanup hook would return before on_poll_closed runs, and a worker unloads the
// addon before its loop runs the close callbacks one last time: that callback would then jump
// into unmapped code. Node waits for an asynchronous hook until it is removed in on_poll_closed.
static void teardown(napi_async_cleanup_hook_handle handle, void* data) {
  batch_socket* s = (batch_socket*)data;
  s->cleanup = handle;
  release(s, 1);
}

// The JavaScript handle was collected: a socket nobody can reach any more is closed.
static void finalize_handle(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  batch_socket* s = (batch_socket*)data;
  release(s, 0);
  disown(s);
}

static batch_socket* unwrap(napi_env env, napi_value value) {
  void* data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "not a batched UDP socket handle");
    return NULL;
  }
  batch_socket* s = (batch_socket*)data;
  if (s->closed) {
    napi_throw_error(env, "ERR_SOCKET_CLOSED", "the batched UDP socket is closed");
    return NULL;
  }
  return s;
}

static napi_value make_buffer(napi_env env, batch_socket* s, int index, size_t bytes, void** data) {
  napi_value ab;
  if (napi_create_arraybuffer(env, bytes, data, &ab) != napi_ok) return NULL;
  memset(*data, 0, bytes);
  if (napi_create_reference(env, ab, 1, &s->buffers[index]) != napi_ok) return NULL;
  return ab;
}

typedef struct {
  char address[INET6_ADDRSTRLEN + 1];
  int port;
  bool reuse_port;
  int32_t buffer_bytes;
} open_args;

// Reads open()'s arguments; throws and returns 0 if one is wrong. Nothing is held yet.
static int parse_open_args(napi_env env, napi_callback_info info, open_args* a) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) {
    napi_throw_type_error(env, NULL, "open(address, port, reusePort, bufferBytes) needs four arguments");
    return 0;
  }
  size_t len = 0;
  // A longer string would be cut to a prefix, and one with a NUL read up to it: either could be
  // a valid literal other than the one asked for. The longest literal is INET6_ADDRSTRLEN - 1.
  if (napi_get_value_string_utf8(env, argv[0], a->address, sizeof a->address, &len) != napi_ok ||
      len >= INET6_ADDRSTRLEN || strlen(a->address) != len) {
    napi_throw_type_error(env, "ERR_INVALID_IP_ADDRESS", "address must be an IPv4 or IPv6 literal");
    return 0;
  }
  // As a double: napi_get_value_int32 turns NaN into 0 (any port) and truncates fractions.
  double port = -1;
  if (napi_get_value_double(env, argv[1], &port) != napi_ok || !(port >= 0 && port <= 65535) || port != (int)port) {
    napi_throw_range_error(env, "ERR_SOCKET_BAD_PORT", "port must be an integer 0..65535");
    return 0;
  }
  a->port = (int)port;
  if (napi_get_value_bool(env, argv[2], &a->reuse_port) != napi_ok) {
    napi_throw_type_error(env, NULL, "reusePort must be a boolean");
    return 0;
  }
  if (napi_get_value_int32(env, argv[3], &a->buffer_bytes) != napi_ok) {
    napi_throw_type_error(env, NULL, "bufferBytes must be a number");
    return 0;
  }
  return 1;
}

// Creates and binds the socket; returns its descriptor and bound port, or throws and returns -1
// with nothing left open.
static int bind_socket(napi_env env, const open_args* a, int* bound_port) {
  struct sockaddr_storage bind_addr;
  socklen_t bind_len;
  memset(&bind_addr, 0, sizeof bind_addr);
  struct sockaddr_in* a4 = (struct sockaddr_in*)&bind_addr;
  struct sockaddr_in6* a6 = (struct sockaddr_in6*)&bind_addr;
  int family;
  if (inet_pton(AF_INET, a->address, &a4->sin_addr) == 1) {
    family = AF_INET;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)a->port);
    bind_len = sizeof *a4;
  } else if (inet_pton(AF_INET6, a->address, &a6->sin6_addr) == 1) {
    family = AF_INET6;
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)a->port);
    bind_len = sizeof *a6;
  } else {
    napi_throw_type_error(env, "ERR_INVALID_IP_ADDRESS", "address must be an IPv4 or IPv6 literal");
    return -1;
  }

  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, "socket", errno);
    return -1;
  }
  int one = 1;
  const char* failed = NULL;
  if (a->reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) failed = "setsockopt SO_REUSEPORT";
  if (!failed && a->buffer_bytes > 0) {
    // Best effort, as node:dgram's recvBufferSize: the kernel caps it at net.core.[rw]mem_max.
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &a->buffer_bytes, sizeof a->buffer_bytes);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &a->buffer_bytes, sizeof a->buffer_bytes);
  }
  if (!failed && bind(fd, (struct sockaddr*)&bind_addr, bind_len) < 0) failed = "bind";
  struct sockaddr_storage bound;
  socklen_t bound_len = sizeof bound;
  if (!failed && getsockname(fd, (struct sockaddr*)&bound, &bound_len) < 0) failed = "getsockname";
  if (failed) {
    int err = errno;
    close(fd);
    throw_errno(env, failed, err);
    return -1;
  }
  *bound_port = ntohs(family == AF_INET ? ((struct sockaddr_in*)&bound)->sin_port : ((struct sockaddr_in6*)&bound)->sin6_port);
  return fd;
}

// Sets up the shared buffers and receive headers of a socket whose poll handle is initialised.
static int make_buffers(napi_env env, batch_socket* s, napi_value buffers[4]) {
  buffers[0] = make_buffer(env, s, 0, (size_t)BATCH * RX_SLOT, (void**)&s->rx);
  buffers[1] = buffers[0] ? make_buffer(env, s, 1, (size_t)BATCH * TX_SLOT, (void**)&s->tx) : NULL;
  buffers[2] = buffers[1] ? make_buffer(env, s, 2, (size_t)3 * BATCH * sizeof(int32_t), (void**)&s->meta) : NULL;
  buffers[3] = buffers[2] ? make_buffer(env, s, 3, (size_t)BATCH * PEER_SLOT, (void**)&s->peer) : NULL;
  if (!buffers[3]) return 0;
  for (int i = 0; i < BATCH; i++) {
    s->riov[i].iov_base = s->rx + i * RX_SLOT;
    s->riov[i].iov_len = RX_SLOT;
    s->rmsg[i].msg_hdr.msg_name = &s->from[i];
    s->rmsg[i].msg_hdr.msg_iov = &s->riov[i];
    s->rmsg[i].msg_hdr.msg_iovlen = 1;
  }
  return 1;
}

// The object open() returns; NULL if it cannot be built.
static napi_value describe(napi_env env, napi_value handle, int port, napi_value buffers[4]) {
  napi_value result, value;
  if (napi_create_object(env, &result) != napi_ok || napi_set_named_property(env, result, "handle", handle) != napi_ok ||
      napi_create_int32(env, port, &value) != napi_ok || napi_set_named_property(env, result, "port", value) != napi_ok)
    return NULL;
  const char* names[4] = {"rx", "tx", "meta", "peer"};
  for (int i = 0; i < 4; i++)
    if (napi_set_named_property(env, result, names[i], buffers[i]) != napi_ok) return NULL;
  const struct { const char* name; int value; } sizes[] = {
    {"batch", BATCH}, {"rxSlot", RX_SLOT}, {"txSlot", TX_SLOT}, {"peerSlot", PEER_SLOT}};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    if (napi_create_int32(env, sizes[i].value, &value) != napi_ok || napi_set_named_property(env, result, sizes[i].name, value) != napi_ok)
      return NULL;
  return result;
}

// open(address: string, port: number, reusePort: boolean, bufferBytes: number)
//   -> { handle, port, rx, tx, meta, peer, batch, rxSlot, txSlot, peerSlot }
// Whatever fails, nothing stays open: once the poll handle exists, release() undoes the rest.
static napi_value open_socket(napi_env env, napi_callback_info info) {
  open_args a;
  if (!parse_open_args(env, info, &a)) return NULL;
  int port = 0;
  int fd = bind_socket(env, &a, &port);
  if (fd < 0) return NULL;

  batch_socket* s = (batch_socket*)calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  s->env = env;
  s->fd = fd;
  s->poll.data = s;
  uv_loop_t* loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init_socket(loop, &s->poll, fd) != 0) {
    close(fd);
    free(s);
    napi_throw_error(env, NULL, "cannot poll the UDP socket");
    return NULL;
  }

  s->owners = 1;
  napi_value buffers[4], handle = NULL;
  if (!make_buffers(env, s, buffers) || napi_add_async_cleanup_hook(env, teardown, s, &s->cleanup) != napi_ok) {
    release(s, 0);
    napi_throw_error(env, NULL, "cannot allocate the shared buffers");
    return NULL;
  }
  s->owners = 2;
  if (napi_create_external(env, s, finalize_handle, NULL, &handle) != napi_ok) {
    s->owners = 1;
    release(s, 0);
    napi_throw_error(env, NULL, "cannot create the socket handle");
    return NULL;
  }
  napi_value result = describe(env, handle, port, buffers);
  if (!result) {
    release(s, 0);  // the handle's finalizer drops the last owner
    napi_throw_error(env, NULL, "cannot describe the batched UDP socket");
  }
  return result;
}

// start(handle, onBatch: (count) => replies): begins reading. Nothing is kept if it fails.
static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  batch_socket* s = argc >= 1 ? unwrap(env, argv[0]) : NULL;
  if (!s) return NULL;
  napi_valuetype type;
  if (argc < 2 || napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, NULL, "start(handle, onBatch) needs a function");
    return NULL;
  }
  if (s->polling) {
    napi_throw_error(env, NULL, "the batched UDP socket is already started");
    return NULL;
  }
  napi_value resource, name;
  napi_ref callback = NULL, resource_ref = NULL;
  napi_async_context async = NULL;
  if (napi_create_object(env, &resource) != napi_ok ||
      napi_create_string_utf8(env, "MeridianBatchedUdp", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_reference(env, argv[1], 1, &callback) != napi_ok ||
      napi_create_reference(env, resource, 1, &resource_ref) != napi_ok ||
      napi_async_init(env, resource, name, &async) != napi_ok ||
      uv_poll_start(&s->poll, UV_READABLE, on_readable) != 0) {
    if (async) napi_async_destroy(env, async);
    if (resource_ref) napi_delete_reference(env, resource_ref);
    if (callback) napi_delete_reference(env, callback);
    napi_throw_error(env, NULL, "cannot start the batched UDP socket");
    return NULL;
  }
  s->callback = callback;
  s->resource = resource_ref;
  s->async = async;
  s->polling = 1;
  return NULL;
}

// close(handle): stops reading and closes the socket; later calls other than close throw
// ERR_SOCKET_CLOSED. The socket may have been closed here already (its buffers were detached).
static napi_value close_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void* data = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "not a batched UDP socket handle");
    return NULL;
  }
  release((batch_socket*)data, 0);
  return NULL;
}

// stats(handle) -> { received, sent, sendDropped, oversized }
static napi_value stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  batch_socket* s = argc >= 1 ? unwrap(env, argv[0]) : NULL;
  if (!s) return NULL;
  napi_value result, value;
  CHECK(env, napi_create_object(env, &result));
  const struct { const char* name; double value; } fields[] = {
    {"received", s->received}, {"sent", s->sent}, {"sendDropped", s->send_dropped}, {"oversized", s->oversized}};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    CHECK(env, napi_create_double(env, fields[i].value, &value));
    CHECK(env, napi_set_named_property(env, result, fields[i].name, value));
  }
  return result;
}

// unref(handle) / ref(handle): whether the socket keeps the event loop alive, as socket.unref().
static napi_value set_ref(napi_env env, napi_callback_info info, int on) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  batch_socket* s = argc >= 1 ? unwrap(env, argv[0]) : NULL;
  if (!s) return NULL;
  if (on) uv_ref((uv_handle_t*)&s->poll);
  else uv_unref((uv_handle_t*)&s->poll);
  return NULL;
}
static napi_value ref(napi_env env, napi_callback_info info) { return set_ref(env, info, 1); }
static napi_value unref(napi_env env, napi_callback_info info) { return set_ref(env, info, 0); }

NAPI_MODULE_INIT() {
  const napi_property_descriptor methods[] = {
    {"open", NULL, open_socket, NULL, NULL, NULL, napi_enumerable, NULL},
    {"start", NULL, start, NULL, NULL, NULL, napi_enumerable, NULL},
    {"close", NULL, close_socket, NULL, NULL, NULL, napi_enumerable, NULL},
    {"stats", NULL, stats, NULL, NULL, NULL, napi_enumerable, NULL},
    {"ref", NULL, ref, NULL, NULL, NULL, napi_enumerable, NULL},
    {"unref", NULL, unref, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
  return exports;
}
