//! The few socket operations the benchmark needs, behind one trait so that the same
//! benchmark code drives our implementation and libzmq (loaded at run time, see
//! [`super::libzmq`]).
//!
//! Dynamic dispatch costs a few nanoseconds per call, the same for both columns.

use std::sync::Arc;

/// The socket types the benchmark uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Push,
    Pull,
    Req,
    Rep,
    Sub,
    XPub,
}

/// CURVE keys of one socket, in Z85 (libzmq and ours both take 40-character keys).
#[derive(Clone, Debug)]
pub(crate) enum Curve {
    /// A CURVE server with this secret key.
    Server { secret: String },
    /// A CURVE client of the server with public key `server`, with its own key pair.
    Client {
        server: String,
        public: String,
        secret: String,
    },
}

/// A ZeroMQ implementation: makes sockets.
pub(crate) trait Net: Send + Sync {
    /// A new socket of `kind`.
    fn socket(&self, kind: Kind) -> Result<Box<dyn Sock>, String>;
}

/// A socket, used by one thread.
pub(crate) trait Sock {
    /// Binds and returns the resolved endpoint (`ZMQ_LAST_ENDPOINT`).
    fn bind(&mut self, endpoint: &str) -> Result<String, String>;
    /// Connects.
    fn connect(&mut self, endpoint: &str) -> Result<(), String>;
    /// Sends one single-frame message (a copy of `data`), blocking.
    fn send(&mut self, data: &[u8]) -> Result<(), String>;
    /// Sends one single-frame message of `data` without copying it, blocking: the
    /// message shares the buffer, as the raw stream writes its one buffer again and again
    /// (ours: a `Message` made once, then cloned; libzmq: `zmq_msg_init_data` with no
    /// free function, its constant-data message).
    fn send_shared(&mut self, data: &'static [u8]) -> Result<(), String>;
    /// Receives one message into the socket's own message buffer and returns its size.
    fn recv(&mut self) -> Result<usize, String>;
    /// The last received message.
    fn received(&self) -> &[u8];
    /// Receives one message and sends that same message back (no copy where the
    /// implementation allows it, as libzmq's `local_lat` does).
    fn echo(&mut self) -> Result<(), String>;
    /// Sets `ZMQ_SNDHWM` and `ZMQ_RCVHWM` (0: no limit).
    fn set_hwm(&mut self, hwm: i32) -> Result<(), String>;
    /// Sets `ZMQ_SUBSCRIBE`.
    fn subscribe(&mut self, topic: &[u8]) -> Result<(), String>;
    /// Sets the CURVE options.
    fn set_curve(&mut self, curve: &Curve) -> Result<(), String>;
}

/// Our implementation, through the public facade.
pub(crate) struct Ours {
    context: zmq::Context,
}

impl Ours {
    /// A new context, as a [`Net`].
    pub(crate) fn context() -> Arc<dyn Net> {
        Arc::new(Self {
            context: zmq::Context::new(),
        })
    }
}

impl Net for Ours {
    fn socket(&self, kind: Kind) -> Result<Box<dyn Sock>, String> {
        let kind = match kind {
            Kind::Push => zmq::PUSH,
            Kind::Pull => zmq::PULL,
            Kind::Req => zmq::REQ,
            Kind::Rep => zmq::REP,
            Kind::Sub => zmq::SUB,
            Kind::XPub => zmq::XPUB,
        };
        let socket = self
            .context
            .socket(kind)
            .map_err(|e| format!("cannot make a {kind:?} socket: {e}"))?;
        Ok(Box::new(OurSocket {
            socket,
            msg: zmq::Message::new(),
            shared: None,
        }))
    }
}

struct OurSocket {
    socket: zmq::Socket,
    msg: zmq::Message,
    /// The message [`Sock::send_shared`] sends, and where its bytes came from.
    shared: Option<(*const u8, zmq::Message)>,
}

fn err(what: &str) -> impl Fn(zmq::Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

impl Sock for OurSocket {
    fn bind(&mut self, endpoint: &str) -> Result<String, String> {
        self.socket
            .bind(endpoint)
            .map_err(|e| format!("cannot bind {endpoint}: {e}"))?;
        match self.socket.get_last_endpoint() {
            Ok(Ok(resolved)) => Ok(resolved),
            _ => Err(format!("cannot read the endpoint bound for {endpoint}")),
        }
    }

    fn connect(&mut self, endpoint: &str) -> Result<(), String> {
        self.socket
            .connect(endpoint)
            .map_err(|e| format!("cannot connect to {endpoint}: {e}"))
    }

    fn send(&mut self, data: &[u8]) -> Result<(), String> {
        self.socket.send(data, 0).map_err(err("send"))
    }

    fn send_shared(&mut self, data: &'static [u8]) -> Result<(), String> {
        let message = match &self.shared {
            Some((from, message)) if *from == data.as_ptr() => message,
            _ => {
                // One copy, made once; each send then shares its buffer.
                let message = zmq::Message::from(data.to_vec());
                &self.shared.insert((data.as_ptr(), message)).1
            }
        };
        self.socket.send(message, 0).map_err(err("send"))
    }

    fn recv(&mut self) -> Result<usize, String> {
        self.socket.recv(&mut self.msg, 0).map_err(err("recv"))?;
        Ok(self.msg.len())
    }

    fn received(&self) -> &[u8] {
        &self.msg
    }

    fn echo(&mut self) -> Result<(), String> {
        self.socket.recv(&mut self.msg, 0).map_err(err("recv"))?;
        let msg = std::mem::take(&mut self.msg);
        self.socket.send(msg, 0).map_err(err("send"))
    }

    fn set_hwm(&mut self, hwm: i32) -> Result<(), String> {
        self.socket.set_sndhwm(hwm).map_err(err("ZMQ_SNDHWM"))?;
        self.socket.set_rcvhwm(hwm).map_err(err("ZMQ_RCVHWM"))
    }

    fn subscribe(&mut self, topic: &[u8]) -> Result<(), String> {
        self.socket
            .set_subscribe(topic)
            .map_err(err("ZMQ_SUBSCRIBE"))
    }

    fn set_curve(&mut self, curve: &Curve) -> Result<(), String> {
        match curve {
            Curve::Server { secret } => {
                self.socket
                    .set_curve_server(true)
                    .map_err(err("ZMQ_CURVE_SERVER"))?;
                self.socket
                    .set_curve_secretkey(secret.as_bytes())
                    .map_err(err("ZMQ_CURVE_SECRETKEY"))
            }
            Curve::Client {
                server,
                public,
                secret,
            } => {
                self.socket
                    .set_curve_serverkey(server.as_bytes())
                    .map_err(err("ZMQ_CURVE_SERVERKEY"))?;
                self.socket
                    .set_curve_publickey(public.as_bytes())
                    .map_err(err("ZMQ_CURVE_PUBLICKEY"))?;
                self.socket
                    .set_curve_secretkey(secret.as_bytes())
                    .map_err(err("ZMQ_CURVE_SECRETKEY"))
            }
        }
    }
}
