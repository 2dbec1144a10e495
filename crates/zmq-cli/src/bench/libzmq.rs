//! libzmq loaded at run time, for the benchmark's libzmq column: a hand-written binding of
//! the functions the benchmark calls, so that building the tool needs no C library.
//!
//! `unsafe` is allowed in this module only: calling a C library is `unsafe` by nature.
//! Soundness rests on four rules, each kept below:
//! - every function pointer is read from the library with the C signature libzmq 4.x
//!   documents (`zmq.h`), and the library stays loaded (an `Arc` held by every context
//!   and socket) for as long as any pointer may be called;
//! - a socket pointer is used by the one thread that made it (`LibSocket` is not `Send`)
//!   and closed exactly once, before its context is terminated (sockets hold the context);
//! - a `zmq_msg_t` is 64 bytes aligned to 8, as `zmq.h` declares it, initialised before use,
//!   closed once, and boxed so it never moves while libzmq may point into it;
//! - buffers passed in are valid for the length passed, and strings are NUL-terminated.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::api::{Curve, Kind, Net, Sock};

// Socket types and options, from zmq.h (libzmq 4.x).
const ZMQ_SUB: c_int = 2;
const ZMQ_REQ: c_int = 3;
const ZMQ_REP: c_int = 4;
const ZMQ_PULL: c_int = 7;
const ZMQ_PUSH: c_int = 8;
const ZMQ_XPUB: c_int = 9;
const ZMQ_SUBSCRIBE: c_int = 6;
const ZMQ_SNDHWM: c_int = 23;
const ZMQ_RCVHWM: c_int = 24;
const ZMQ_LAST_ENDPOINT: c_int = 32;
const ZMQ_CURVE_SERVER: c_int = 47;
const ZMQ_CURVE_PUBLICKEY: c_int = 48;
const ZMQ_CURVE_SECRETKEY: c_int = 49;
const ZMQ_CURVE_SERVERKEY: c_int = 50;
const EINTR: c_int = 4;

/// `zmq_msg_t`: 64 opaque bytes, aligned as zmq.h declares it on 64-bit targets.
#[repr(C, align(8))]
struct ZmqMsg([u8; 64]);

type CtxNew = unsafe extern "C" fn() -> *mut c_void;
type CtxTerm = unsafe extern "C" fn(*mut c_void) -> c_int;
type SocketFn = unsafe extern "C" fn(*mut c_void, c_int) -> *mut c_void;
type Close = unsafe extern "C" fn(*mut c_void) -> c_int;
type SetSockOpt = unsafe extern "C" fn(*mut c_void, c_int, *const c_void, usize) -> c_int;
type GetSockOpt = unsafe extern "C" fn(*mut c_void, c_int, *mut c_void, *mut usize) -> c_int;
type Endpoint = unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int;
type Send = unsafe extern "C" fn(*mut c_void, *const c_void, usize, c_int) -> c_int;
type MsgInit = unsafe extern "C" fn(*mut ZmqMsg) -> c_int;
type FreeFn = unsafe extern "C" fn(*mut c_void, *mut c_void);
type MsgInitData =
    unsafe extern "C" fn(*mut ZmqMsg, *mut c_void, usize, Option<FreeFn>, *mut c_void) -> c_int;
type MsgIo = unsafe extern "C" fn(*mut ZmqMsg, *mut c_void, c_int) -> c_int;
type MsgData = unsafe extern "C" fn(*mut ZmqMsg) -> *mut c_void;
type MsgSize = unsafe extern "C" fn(*const ZmqMsg) -> usize;
type Errno = unsafe extern "C" fn() -> c_int;
type StrError = unsafe extern "C" fn(c_int) -> *const c_char;
type Version = unsafe extern "C" fn(*mut c_int, *mut c_int, *mut c_int);

/// The loaded library and the functions the benchmark calls.
pub(crate) struct Lib {
    ctx_new: CtxNew,
    ctx_term: CtxTerm,
    socket: SocketFn,
    close: Close,
    setsockopt: SetSockOpt,
    getsockopt: GetSockOpt,
    bind: Endpoint,
    connect: Endpoint,
    send: Send,
    msg_init: MsgInit,
    msg_init_data: MsgInitData,
    msg_close: MsgInit,
    msg_recv: MsgIo,
    msg_send: MsgIo,
    msg_data: MsgData,
    msg_size: MsgSize,
    errno: Errno,
    strerror: StrError,
    version: Version,
    path: PathBuf,
    // Last, so that it is dropped (unloaded) after everything above.
    _library: libloading::Library,
}

impl Lib {
    /// Loads libzmq from `path` and looks up every function the benchmark needs.
    pub(crate) fn load(path: &Path) -> Result<Arc<Self>, String> {
        // SAFETY: loading runs the library's initialisers; libzmq's only set up its own
        // globals. The path is one the user or the discovery in `super::find_libzmq` chose.
        let library = unsafe { libloading::Library::new(path) }
            .map_err(|e| format!("cannot load {}: {e}", path.display()))?;
        macro_rules! sym {
            ($name:literal) => {
                // SAFETY: the type is the C signature zmq.h declares for this name; the
                // pointer is only called while `_library` is loaded (see `Lib`).
                *unsafe { library.get(concat!($name, "\0").as_bytes()) }.map_err(|e| {
                    format!(
                        "{} is not a usable libzmq (no {}: {e})",
                        path.display(),
                        $name
                    )
                })?
            };
        }
        let lib = Self {
            ctx_new: sym!("zmq_ctx_new"),
            ctx_term: sym!("zmq_ctx_term"),
            socket: sym!("zmq_socket"),
            close: sym!("zmq_close"),
            setsockopt: sym!("zmq_setsockopt"),
            getsockopt: sym!("zmq_getsockopt"),
            bind: sym!("zmq_bind"),
            connect: sym!("zmq_connect"),
            send: sym!("zmq_send"),
            msg_init: sym!("zmq_msg_init"),
            msg_init_data: sym!("zmq_msg_init_data"),
            msg_close: sym!("zmq_msg_close"),
            msg_recv: sym!("zmq_msg_recv"),
            msg_send: sym!("zmq_msg_send"),
            msg_data: sym!("zmq_msg_data"),
            msg_size: sym!("zmq_msg_size"),
            errno: sym!("zmq_errno"),
            strerror: sym!("zmq_strerror"),
            version: sym!("zmq_version"),
            path: path.to_path_buf(),
            _library: library,
        };
        let (major, _, _) = lib.version();
        if major != 4 {
            return Err(format!(
                "{} is libzmq {major}.x; the benchmark binds the libzmq 4 API",
                path.display()
            ));
        }
        Ok(Arc::new(lib))
    }

    /// `zmq_version`.
    pub(crate) fn version(&self) -> (i32, i32, i32) {
        let (mut a, mut b, mut c) = (0, 0, 0);
        // SAFETY: three valid out-pointers.
        unsafe { (self.version)(&mut a, &mut b, &mut c) };
        (a, b, c)
    }

    /// Where the library was loaded from.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The last error of the calling thread, as text.
    fn error(&self, what: &str) -> String {
        // SAFETY: zmq_errno takes nothing; zmq_strerror returns a static NUL-terminated
        // string for any value.
        let text = unsafe {
            let errno = (self.errno)();
            CStr::from_ptr((self.strerror)(errno))
                .to_string_lossy()
                .into_owned()
        };
        format!("{what}: {text} (libzmq)")
    }

    fn last_errno(&self) -> c_int {
        // SAFETY: zmq_errno takes nothing.
        unsafe { (self.errno)() }
    }

    /// A new context.
    pub(crate) fn context(self: &Arc<Self>) -> Result<Arc<dyn Net>, String> {
        // SAFETY: no arguments; a null return is handled.
        let ctx = unsafe { (self.ctx_new)() };
        if ctx.is_null() {
            return Err(self.error("zmq_ctx_new"));
        }
        Ok(Arc::new(LibNet(Arc::new(LibContext {
            lib: Arc::clone(self),
            ctx,
        }))))
    }
}

/// A libzmq context.
struct LibContext {
    lib: Arc<Lib>,
    ctx: *mut c_void,
}

// SAFETY: libzmq contexts are thread-safe (zmq_ctx_new(3): "a ØMQ context is thread safe
// and may be shared among as many application threads as necessary"); the pointer is only
// passed to zmq_socket (thread-safe) and, once, to zmq_ctx_term in `drop`.
unsafe impl std::marker::Send for LibContext {}
// SAFETY: as above.
unsafe impl Sync for LibContext {}

impl Drop for LibContext {
    fn drop(&mut self) {
        // Every socket holds an `Arc` of its context, so all are closed by now and the
        // termination cannot block on an open socket; it retries on EINTR as documented.
        loop {
            // SAFETY: `ctx` came from zmq_ctx_new and is terminated once.
            let rc = unsafe { (self.lib.ctx_term)(self.ctx) };
            if rc == 0 || self.lib.last_errno() != EINTR {
                break;
            }
        }
    }
}

/// The [`Net`] of a libzmq context.
struct LibNet(Arc<LibContext>);

impl Net for LibNet {
    fn socket(&self, kind: Kind) -> Result<Box<dyn Sock>, String> {
        let raw = match kind {
            Kind::Push => ZMQ_PUSH,
            Kind::Pull => ZMQ_PULL,
            Kind::Req => ZMQ_REQ,
            Kind::Rep => ZMQ_REP,
            Kind::Sub => ZMQ_SUB,
            Kind::XPub => ZMQ_XPUB,
        };
        let lib = &self.0.lib;
        // SAFETY: a live context and a valid socket type; null is handled.
        let socket = unsafe { (lib.socket)(self.0.ctx, raw) };
        if socket.is_null() {
            return Err(lib.error(&format!("zmq_socket({kind:?})")));
        }
        let mut msg = Box::new(ZmqMsg([0; 64]));
        // SAFETY: `msg` is a writable, aligned zmq_msg_t; init cannot fail.
        unsafe { (lib.msg_init)(&mut *msg) };
        Ok(Box::new(LibSocket {
            context: Arc::clone(&self.0),
            socket,
            msg,
        }))
    }
}

/// A libzmq socket and the message it receives into.
struct LibSocket {
    context: Arc<LibContext>,
    socket: *mut c_void,
    msg: Box<ZmqMsg>,
}

impl LibSocket {
    fn lib(&self) -> &Lib {
        &self.context.lib
    }

    fn set(&mut self, option: c_int, value: &[u8], what: &str) -> Result<(), String> {
        // SAFETY: a live socket, and a buffer valid for its length.
        let rc = unsafe {
            (self.lib().setsockopt)(self.socket, option, value.as_ptr().cast(), value.len())
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(self.lib().error(what))
        }
    }

    fn set_int(&mut self, option: c_int, value: c_int, what: &str) -> Result<(), String> {
        self.set(option, &value.to_ne_bytes(), what)
    }

    /// Calls `f` until it does not fail with EINTR.
    fn retry(&self, what: &str, mut f: impl FnMut() -> c_int) -> Result<c_int, String> {
        loop {
            let rc = f();
            if rc >= 0 {
                return Ok(rc);
            }
            if self.lib().last_errno() != EINTR {
                return Err(self.lib().error(what));
            }
        }
    }

    fn endpoint_call(&mut self, f: Endpoint, endpoint: &str, what: &str) -> Result<(), String> {
        let c = CString::new(endpoint).map_err(|_| format!("{what}: endpoint holds a NUL"))?;
        // SAFETY: a live socket and a NUL-terminated string.
        let rc = unsafe { f(self.socket, c.as_ptr()) };
        if rc == 0 {
            Ok(())
        } else {
            Err(self.lib().error(&format!("{what} {endpoint}")))
        }
    }
}

impl Drop for LibSocket {
    fn drop(&mut self) {
        let lib = &self.context.lib;
        // SAFETY: the message was initialised in `socket` and is closed once; the socket
        // pointer came from zmq_socket and is closed once, by the thread that used it.
        unsafe {
            (lib.msg_close)(&mut *self.msg);
            (lib.close)(self.socket);
        }
    }
}

impl Sock for LibSocket {
    fn bind(&mut self, endpoint: &str) -> Result<String, String> {
        let bind = self.lib().bind;
        self.endpoint_call(bind, endpoint, "zmq_bind")?;
        let mut buf = [0u8; 256];
        let mut len = buf.len();
        // SAFETY: a live socket, a buffer and its length as an in-out size.
        let rc = unsafe {
            (self.lib().getsockopt)(
                self.socket,
                ZMQ_LAST_ENDPOINT,
                buf.as_mut_ptr().cast(),
                &mut len,
            )
        };
        if rc != 0 {
            return Err(self.lib().error("ZMQ_LAST_ENDPOINT"));
        }
        let text = CStr::from_bytes_until_nul(&buf[..len.min(buf.len())])
            .map_err(|_| "ZMQ_LAST_ENDPOINT is not a C string".to_string())?;
        Ok(text.to_string_lossy().into_owned())
    }

    fn connect(&mut self, endpoint: &str) -> Result<(), String> {
        let connect = self.lib().connect;
        self.endpoint_call(connect, endpoint, "zmq_connect")
    }

    fn send(&mut self, data: &[u8]) -> Result<(), String> {
        let (send, socket) = (self.lib().send, self.socket);
        // SAFETY: a live socket and a buffer valid for its length (libzmq copies it).
        self.retry("zmq_send", || unsafe {
            send(socket, data.as_ptr().cast(), data.len(), 0)
        })?;
        Ok(())
    }

    fn send_shared(&mut self, data: &'static [u8]) -> Result<(), String> {
        let (init_data, send, close) = (
            self.lib().msg_init_data,
            self.lib().msg_send,
            self.lib().msg_close,
        );
        let socket = self.socket;
        let mut message = ZmqMsg([0; 64]);
        let msg: *mut ZmqMsg = &mut message;
        // SAFETY: a writable, aligned zmq_msg_t (it does not move before it is closed);
        // the bytes are `'static`, so valid for as long as libzmq may read them, and never
        // written (no free function: libzmq neither frees nor counts references to them).
        let rc = unsafe {
            init_data(
                msg,
                data.as_ptr().cast_mut().cast(),
                data.len(),
                None,
                std::ptr::null_mut(),
            )
        };
        if rc != 0 {
            return Err(self.lib().error("zmq_msg_init_data"));
        }
        // SAFETY: the message just initialised and a live socket; on success libzmq
        // leaves it empty, on failure it is still ours, and it is closed once either way.
        let sent = self.retry("zmq_msg_send", || unsafe { send(msg, socket, 0) });
        // SAFETY: an initialised message, closed once.
        unsafe { close(msg) };
        sent.map(|_| ())
    }

    fn recv(&mut self) -> Result<usize, String> {
        let (recv, socket) = (self.lib().msg_recv, self.socket);
        let msg: *mut ZmqMsg = &mut *self.msg;
        // SAFETY: an initialised message (zmq_msg_recv releases its old content) and a
        // live socket.
        let n = self.retry("zmq_msg_recv", || unsafe { recv(msg, socket, 0) })?;
        Ok(n as usize)
    }

    fn received(&self) -> &[u8] {
        let msg: *const ZmqMsg = &*self.msg;
        // SAFETY: an initialised message; zmq_msg_data does not modify it, and the bytes
        // stay valid until the next call that takes `&mut self`.
        unsafe {
            let size = (self.lib().msg_size)(msg);
            if size == 0 {
                return &[];
            }
            let data = (self.lib().msg_data)(msg.cast_mut());
            std::slice::from_raw_parts(data.cast::<u8>(), size)
        }
    }

    fn echo(&mut self) -> Result<(), String> {
        self.recv()?;
        let (send, socket) = (self.lib().msg_send, self.socket);
        let msg: *mut ZmqMsg = &mut *self.msg;
        // SAFETY: the message just received; on success libzmq leaves it empty and
        // initialised, ready for the next zmq_msg_recv.
        self.retry("zmq_msg_send", || unsafe { send(msg, socket, 0) })?;
        Ok(())
    }

    fn set_hwm(&mut self, hwm: i32) -> Result<(), String> {
        self.set_int(ZMQ_SNDHWM, hwm, "ZMQ_SNDHWM")?;
        self.set_int(ZMQ_RCVHWM, hwm, "ZMQ_RCVHWM")
    }

    fn subscribe(&mut self, topic: &[u8]) -> Result<(), String> {
        self.set(ZMQ_SUBSCRIBE, topic, "ZMQ_SUBSCRIBE")
    }

    fn set_curve(&mut self, curve: &Curve) -> Result<(), String> {
        match curve {
            Curve::Server { secret } => {
                self.set_int(ZMQ_CURVE_SERVER, 1, "ZMQ_CURVE_SERVER")?;
                self.set(
                    ZMQ_CURVE_SECRETKEY,
                    secret.as_bytes(),
                    "ZMQ_CURVE_SECRETKEY",
                )
            }
            Curve::Client {
                server,
                public,
                secret,
            } => {
                self.set(
                    ZMQ_CURVE_SERVERKEY,
                    server.as_bytes(),
                    "ZMQ_CURVE_SERVERKEY",
                )?;
                self.set(
                    ZMQ_CURVE_PUBLICKEY,
                    public.as_bytes(),
                    "ZMQ_CURVE_PUBLICKEY",
                )?;
                self.set(
                    ZMQ_CURVE_SECRETKEY,
                    secret.as_bytes(),
                    "ZMQ_CURVE_SECRETKEY",
                )
            }
        }
    }
}
