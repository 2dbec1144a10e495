//! The runtime a context owns: its I/O threads and its inproc endpoints, and the calls a
//! socket makes on them (bind, connect, close an endpoint).

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6, ToSocketAddrs};
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use zmtp_codec::{Metadata, SocketType};

use crate::endpoint::{Direction, Endpoint, EndpointError, Host, IpcEndpoint};
use crate::errno;
use crate::monitor::{self, EventKind, MonitorEvent};
use crate::options::TransportOptions;
use crate::pipe::{pipe_pair, PipeEnd};
use crate::reactor::{Command, ConnectSpec, IoThread, ListenSpec, Target};
use crate::sched::IoScheduling;
use crate::stream::{self, Listener, UnixAddr};
use crate::zap::{Authorizer, ZapRouter};

/// Identifies one bind or connect of a socket.
pub type EndpointId = u64;

/// A new peer for a socket: a connection that completed its handshake, or an inproc peer.
#[non_exhaustive]
pub struct NewPeer {
    /// The socket's end of the peer's pipe.
    pub pipe: PipeEnd,
    /// The peer's routing id: its `Identity` property, `ZMQ_CONNECT_ROUTING_ID`, or for
    /// inproc its `ZMQ_ROUTING_ID` (possibly empty).
    pub routing_id: Bytes,
    /// The peer's socket type, when known.
    pub socket_type: Option<SocketType>,
    /// The peer's properties, for `zmq_msg_gets`.
    pub metadata: Arc<Metadata>,
    /// The bind this peer came through, if any (a bound endpoint's peers close with it).
    pub endpoint_id: Option<EndpointId>,
    /// An inproc peer: another socket's thread moves its messages, with no I/O thread
    /// in between (a socket whose peers are all inproc may spin briefly before it sleeps).
    pub in_process: bool,
}

impl NewPeer {
    /// A peer with no properties beyond those given.
    pub fn new(
        pipe: PipeEnd,
        routing_id: Bytes,
        socket_type: Option<SocketType>,
        endpoint_id: Option<EndpointId>,
    ) -> Self {
        Self {
            pipe,
            routing_id,
            socket_type,
            metadata: Arc::new(Metadata::new()),
            endpoint_id,
            in_process: false,
        }
    }
}

impl fmt::Debug for NewPeer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewPeer")
            .field("routing_id", &self.routing_id)
            .field("socket_type", &self.socket_type)
            .field("endpoint_id", &self.endpoint_id)
            .field("in_process", &self.in_process)
            .finish()
    }
}

/// How the transport reaches a socket. The facade implements it; calls come from I/O
/// threads and other sockets' threads, and must not block.
pub trait SocketLink: Send + Sync + 'static {
    /// A peer is ready.
    fn attach(&self, peer: NewPeer);

    /// The [`EventKind`] bits the socket wants
    /// [`event`](Self::event) called for (none by default). Asked before each event is
    /// built, from I/O threads: keep it to an atomic load.
    fn event_mask(&self) -> u32 {
        0
    }

    /// A monitor event (see [`crate::monitor`]). Called from I/O threads and from the
    /// socket's own calls; it must not block.
    fn event(&self, event: MonitorEvent) {
        let _ = event;
    }
}

/// What can go wrong binding or connecting.
#[derive(Debug)]
#[non_exhaustive]
pub enum TransportError {
    /// The endpoint string was refused.
    Endpoint(EndpointError),
    /// The operating system refused (address in use, no such interface, ...).
    Io {
        /// The endpoint as given.
        endpoint: String,
        /// The OS error.
        error: io::Error,
    },
    /// The inproc name is already bound.
    InprocInUse(String),
    /// No host or interface of that name.
    NoSuchDevice(String),
    /// The context is terminating.
    Terminated,
}

impl TransportError {
    /// libzmq's errno for this error.
    pub fn errno(&self) -> i32 {
        match self {
            Self::Endpoint(e) => e.errno(),
            Self::Io { error, .. } => error.raw_os_error().unwrap_or(errno::EINVAL),
            Self::InprocInUse(_) => errno::EADDRINUSE,
            Self::NoSuchDevice(_) => errno::ENODEV,
            Self::Terminated => errno::ETERM,
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Endpoint(e) => fmt::Display::fmt(e, f),
            Self::Io { endpoint, error } => write!(f, "{endpoint}: {error}"),
            Self::InprocInUse(name) => write!(
                f,
                "inproc://{name} is already bound in this context; unbind it first or pick another name"
            ),
            Self::NoSuchDevice(name) => {
                write!(f, "{name} is neither an interface nor a host that resolves")
            }
            Self::Terminated => f.write_str("the context is terminating"),
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Endpoint(e) => Some(e),
            Self::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// A finished bind.
#[derive(Clone, Debug)]
pub struct Bound {
    /// Its id, to unbind.
    pub id: EndpointId,
    /// The endpoint as bound, with wildcards and ephemeral ports resolved
    /// (`ZMQ_LAST_ENDPOINT`).
    pub endpoint: String,
}

/// A socket's side of an inproc connection, or what a bound inproc name keeps.
pub(crate) struct InprocBinding {
    pub(crate) link: Arc<dyn SocketLink>,
    pub(crate) options: Arc<TransportOptions>,
    pub(crate) id: EndpointId,
}

/// An inproc connect made before the bind, waiting for it.
enum PendingInproc {
    /// The connecting socket holds its end of the pipe already (messages queue to it);
    /// the binder gets this end.
    Queued {
        // Boxed: a pipe end is several times the size of the other variant.
        pipe: Box<PipeEnd>,
        id: EndpointId,
        /// The connecting socket's routing id and type, for the binder.
        routing_id: Bytes,
        socket_type: SocketType,
        metadata: Arc<Metadata>,
    },
    /// The connecting socket takes its peer only at the bind (`defer_attach`).
    Deferred {
        link: Arc<dyn SocketLink>,
        options: Arc<TransportOptions>,
        id: EndpointId,
        peer_routing_id: Option<Bytes>,
    },
}

impl PendingInproc {
    fn id(&self) -> EndpointId {
        match self {
            Self::Queued { id, .. } | Self::Deferred { id, .. } => *id,
        }
    }
}

/// The inproc endpoints of a context: shared with the I/O threads, whose engines reach the
/// ZAP handler bound at `inproc://zeromq.zap.01` through it.
#[derive(Default)]
pub(crate) struct Inproc {
    pub(crate) bound: HashMap<String, InprocBinding>,
    pending: HashMap<String, Vec<PendingInproc>>,
}

/// The I/O threads and inproc endpoints of one context.
pub struct Runtime {
    threads: Vec<IoThread>,
    next_thread: AtomicUsize,
    next_id: AtomicU64,
    inproc: Arc<Mutex<Inproc>>,
    /// Where handshakes send their ZAP requests.
    zap: Arc<ZapRouter>,
    /// The I/O thread of each bound tcp or ipc endpoint, for closing it.
    listeners: Mutex<HashMap<EndpointId, usize>>,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("io_threads", &self.threads.len())
            .finish()
    }
}

impl Runtime {
    /// Starts `io_threads` I/O threads (at least one), scheduled by default
    /// ([`IoScheduling`]).
    pub fn new(io_threads: usize) -> io::Result<Self> {
        Self::with_scheduling(io_threads, IoScheduling::default())
    }

    /// Starts `io_threads` I/O threads (at least one), scheduled as `scheduling` asks.
    pub fn with_scheduling(io_threads: usize, scheduling: IoScheduling) -> io::Result<Self> {
        let inproc = Arc::new(Mutex::new(Inproc::default()));
        let zap = Arc::new(ZapRouter::new(Arc::clone(&inproc)));
        let threads = (0..io_threads.max(1))
            .map(|i| IoThread::spawn(i, Arc::clone(&zap), scheduling))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Self {
            threads,
            next_thread: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
            inproc,
            zap,
            listeners: Mutex::new(HashMap::new()),
        })
    }

    /// Sets the in-process ZAP handler of this runtime's connections, or removes it with
    /// `None`. While one is set, it answers every ZAP request, and a socket bound at
    /// `inproc://zeromq.zap.01` is not asked; see [`Authorizer`] for where it runs.
    /// Connections that have started their handshake keep the handler they started with.
    pub fn set_authorizer(&self, authorizer: Option<Arc<dyn Authorizer>>) {
        self.zap.set_authorizer(authorizer);
    }

    /// The number of I/O threads.
    pub fn io_threads(&self) -> usize {
        self.threads.len()
    }

    fn new_id(&self) -> EndpointId {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn thread(&self) -> &IoThread {
        let i = self.next_thread.fetch_add(1, Ordering::Relaxed) % self.threads.len();
        &self.threads[i]
    }

    /// Binds `endpoint`. Errors (address in use, unknown interface) come back at once.
    pub fn bind(
        &self,
        endpoint: &str,
        link: Arc<dyn SocketLink>,
        options: &TransportOptions,
    ) -> Result<Bound, TransportError> {
        let parsed =
            Endpoint::parse(endpoint, Direction::Bind).map_err(TransportError::Endpoint)?;
        let id = self.new_id();
        let options = Arc::new(options.clone());
        let opened = match parsed {
            Endpoint::Inproc(name) => {
                self.bind_inproc(&name, link, options, id)?;
                return Ok(Bound {
                    id,
                    endpoint: endpoint.to_owned(),
                });
            }
            other => open_listener(other, endpoint, &options),
        };
        let (listener, resolved) = match opened {
            Ok(opened) => opened,
            Err((e, fd)) => {
                // As libzmq: the descriptor opened for the listener is reported closed
                // (named "" for tcp, as libzmq has not named it yet), then the failure,
                // named by the address without its scheme.
                let tcp = endpoint.starts_with("tcp://");
                if let Some(fd) = fd {
                    monitor::emit(
                        &*link,
                        EventKind::Closed,
                        monitor::value(fd),
                        if tcp { "" } else { endpoint },
                        |_| {},
                    );
                }
                let address = endpoint.split_once("://").map_or(endpoint, |(_, a)| a);
                monitor::emit(
                    &*link,
                    EventKind::BindFailed,
                    monitor::value(e.errno()),
                    address,
                    |ev| ev.reason = Some(e.to_string()),
                );
                return Err(e);
            }
        };
        monitor::emit(
            &*link,
            EventKind::Listening,
            monitor::value(listener.as_fd_raw()),
            &resolved,
            |_| {},
        );
        let thread = self.next_thread.fetch_add(1, Ordering::Relaxed) % self.threads.len();
        self.listeners.lock().insert(id, thread);
        self.threads[thread]
            .shared
            .send(Command::Listen(Box::new(ListenSpec {
                listener,
                id,
                link,
                options,
                endpoint: Arc::from(resolved.as_str()),
            })));
        Ok(Bound {
            id,
            endpoint: resolved,
        })
    }

    /// Connects to `endpoint`, now and again whenever the connection is lost.
    ///
    /// With `session`, the socket's end of the peer's pipe exists from now on (so messages
    /// queue before the connection is up), and this end serves every connection in turn;
    /// without it, each connection brings a new pipe through [`SocketLink::attach`].
    /// `peer_routing_id` is `ZMQ_CONNECT_ROUTING_ID`.
    pub fn connect(
        &self,
        endpoint: &str,
        link: Arc<dyn SocketLink>,
        options: &TransportOptions,
        session: Option<PipeEnd>,
        peer_routing_id: Option<Bytes>,
    ) -> Result<EndpointId, TransportError> {
        let parsed =
            Endpoint::parse(endpoint, Direction::Connect).map_err(TransportError::Endpoint)?;
        let id = self.new_id();
        let target = match parsed {
            Endpoint::Inproc(name) => {
                // inproc needs no session: the pipe joins the two sockets directly.
                drop(session);
                self.connect_inproc(&name, link, options, peer_routing_id, id);
                return Ok(id);
            }
            Endpoint::Tcp(tcp) => {
                let source = match &tcp.source {
                    Some((host, port)) => Some(bind_address(host, *port, options.ipv6)?),
                    None => None,
                };
                Target::Tcp {
                    host: tcp.host,
                    port: tcp.port,
                    source,
                }
            }
            Endpoint::Ipc(IpcEndpoint::Path(p)) => Target::Unix(UnixAddr::Path(p)),
            Endpoint::Ipc(IpcEndpoint::Abstract(n)) => Target::Unix(UnixAddr::Abstract(n)),
            Endpoint::Ipc(IpcEndpoint::Generated) => {
                return Err(TransportError::Endpoint(EndpointError::Invalid {
                    endpoint: endpoint.to_owned(),
                    reason: "cannot connect to ipc://*",
                }))
            }
        };
        self.thread()
            .shared
            .send(Command::Connect(Box::new(ConnectSpec {
                target,
                id,
                link,
                options: Arc::new(options.clone()),
                session,
                peer_routing_id,
                endpoint: Arc::from(endpoint),
            })));
        Ok(id)
    }

    /// Closes what a bind or connect opened. Its connections first send what their socket
    /// queued, until the socket closes its pipe ends, for at most `linger` (`None`: no
    /// limit). Unknown ids are ignored.
    ///
    /// A bound endpoint's listener is closed when this returns, so the address can be
    /// bound again at once (this waits for its I/O thread to take the command).
    pub fn close_endpoint(&self, id: EndpointId, linger: Option<Duration>) {
        {
            let mut inproc = self.inproc.lock();
            inproc.bound.retain(|_, b| b.id != id);
            // An inproc connect still waiting for its bind: a socket that takes its peer
            // at the bind has none to take any more; queued messages stay for the bind
            // unless the linger is 0.
            for waiting in inproc.pending.values_mut() {
                waiting.retain(|p| {
                    p.id() != id
                        || (linger != Some(Duration::ZERO)
                            && matches!(p, PendingInproc::Queued { .. }))
                });
            }
            inproc.pending.retain(|_, waiting| !waiting.is_empty());
        }
        let listener = self.listeners.lock().remove(&id);
        let (done, closed) = std::sync::mpsc::sync_channel::<()>(0);
        for (i, t) in self.threads.iter().enumerate() {
            let done = (listener == Some(i)).then(|| done.clone());
            t.shared.close_endpoint(id, linger, done);
        }
        drop(done);
        // Err once every sender is gone: the listener is closed (or its thread ended).
        let _ = closed.recv();
    }

    /// Waits until every closing connection has finished lingering, or until `deadline`.
    /// Returns whether all did.
    pub fn wait_lingering(&self, deadline: Option<Instant>) -> bool {
        self.threads.iter().all(|t| t.shared.wait_idle(deadline))
    }

    /// Stops the I/O threads, closing every connection at once.
    pub fn shutdown(&mut self) {
        for t in &mut self.threads {
            t.stop();
        }
        self.zap.shutdown();
        let mut inproc = self.inproc.lock();
        inproc.bound.clear();
        inproc.pending.clear();
    }

    fn bind_inproc(
        &self,
        name: &str,
        link: Arc<dyn SocketLink>,
        options: Arc<TransportOptions>,
        id: EndpointId,
    ) -> Result<(), TransportError> {
        let pending = {
            let mut inproc = self.inproc.lock();
            if inproc.bound.contains_key(name) {
                return Err(TransportError::InprocInUse(name.to_owned()));
            }
            inproc.bound.insert(
                name.to_owned(),
                InprocBinding {
                    link: Arc::clone(&link),
                    options: Arc::clone(&options),
                    id,
                },
            );
            inproc.pending.remove(name).unwrap_or_default()
        };
        let binder = InprocBinding { link, options, id };
        for p in pending {
            match p {
                PendingInproc::Queued {
                    pipe,
                    routing_id,
                    socket_type,
                    metadata,
                    ..
                } => {
                    // What the binder sends carries its properties from now on.
                    pipe.writer
                        .set_metadata(Arc::new(socket_type_metadata(binder.options.socket_type)));
                    binder.link.attach(NewPeer {
                        pipe: *pipe,
                        routing_id,
                        socket_type: Some(socket_type),
                        metadata,
                        endpoint_id: Some(id),
                        in_process: true,
                    });
                }
                PendingInproc::Deferred {
                    link,
                    options,
                    id: connect_id,
                    peer_routing_id,
                } => join_inproc(&link, &options, connect_id, peer_routing_id, &binder),
            }
        }
        Ok(())
    }

    fn connect_inproc(
        &self,
        name: &str,
        link: Arc<dyn SocketLink>,
        options: &TransportOptions,
        peer_routing_id: Option<Bytes>,
        id: EndpointId,
    ) {
        let mut inproc = self.inproc.lock();
        if let Some(b) = inproc.bound.get(name) {
            let binder = InprocBinding {
                link: Arc::clone(&b.link),
                options: Arc::clone(&b.options),
                id: b.id,
            };
            drop(inproc);
            join_inproc(&link, options, id, peer_routing_id, &binder);
            return;
        }
        if options.defer_attach {
            inproc
                .pending
                .entry(name.to_owned())
                .or_default()
                .push(PendingInproc::Deferred {
                    link,
                    options: Arc::new(options.clone()),
                    id,
                    peer_routing_id,
                });
            return;
        }
        // The binder's marks are not known yet: assume they are the connecter's.
        let (ours, theirs) = pipe_pair(
            sum_hwm(options.sndhwm, options.sndhwm),
            sum_hwm(options.rcvhwm, options.rcvhwm),
        );
        ours.writer.set_hwm_parts(options.sndhwm, options.sndhwm);
        theirs.writer.set_hwm_parts(options.rcvhwm, options.rcvhwm);
        ours.writer.set_conflate(options.conflate_out());
        theirs.writer.set_conflate(options.conflate_in());
        let metadata = Arc::new(socket_type_metadata(options.socket_type));
        ours.writer.set_metadata(Arc::clone(&metadata));
        inproc
            .pending
            .entry(name.to_owned())
            .or_default()
            .push(PendingInproc::Queued {
                pipe: Box::new(theirs),
                id,
                routing_id: options.routing_id.clone(),
                socket_type: options.socket_type,
                metadata,
            });
        drop(inproc);
        // The connecting side has its peer at once; messages queue until the bind.
        link.attach(NewPeer {
            pipe: ours,
            routing_id: peer_routing_id.unwrap_or_default(),
            socket_type: None,
            metadata: Arc::new(Metadata::new()),
            endpoint_id: Some(id),
            in_process: true,
        });
    }
}

/// Joins a connecting socket to a bound one with a new pipe pair, and gives each its peer.
fn join_inproc(
    link: &Arc<dyn SocketLink>,
    options: &TransportOptions,
    id: EndpointId,
    peer_routing_id: Option<Bytes>,
    binder: &InprocBinding,
) {
    // As libzmq: the queue toward each side holds the sender's SNDHWM plus the receiver's
    // RCVHWM (0 when either is unlimited).
    let (ours, theirs) = pipe_pair(
        sum_hwm(options.sndhwm, binder.options.rcvhwm),
        sum_hwm(binder.options.sndhwm, options.rcvhwm),
    );
    // Each side's part of the mark stays when the other changes its own.
    ours.writer
        .set_hwm_parts(options.sndhwm, binder.options.rcvhwm);
    theirs
        .writer
        .set_hwm_parts(binder.options.sndhwm, options.rcvhwm);
    ours.writer
        .set_conflate(options.conflate_out() || binder.options.conflate_in());
    theirs
        .writer
        .set_conflate(binder.options.conflate_out() || options.conflate_in());
    // Each side's messages carry its properties, as a connection's carry the handshake's.
    let ours_md = Arc::new(socket_type_metadata(options.socket_type));
    let theirs_md = Arc::new(socket_type_metadata(binder.options.socket_type));
    ours.writer.set_metadata(Arc::clone(&ours_md));
    theirs.writer.set_metadata(Arc::clone(&theirs_md));
    binder.link.attach(NewPeer {
        pipe: theirs,
        routing_id: options.routing_id.clone(),
        socket_type: Some(options.socket_type),
        metadata: ours_md,
        endpoint_id: Some(binder.id),
        in_process: true,
    });
    link.attach(NewPeer {
        pipe: ours,
        routing_id: peer_routing_id.unwrap_or_else(|| binder.options.routing_id.clone()),
        socket_type: Some(binder.options.socket_type),
        metadata: theirs_md,
        endpoint_id: Some(id),
        in_process: true,
    });
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn sum_hwm(a: usize, b: usize) -> usize {
    if a == 0 || b == 0 {
        0
    } else {
        a.saturating_add(b)
    }
}

fn socket_type_metadata(t: SocketType) -> Metadata {
    let mut md = Metadata::new();
    let _ = md.insert(zmtp_codec::metadata::SOCKET_TYPE, t.name());
    md
}

/// Opens the listener of a tcp or ipc bind; returns it with the endpoint as bound.
/// On failure, also the descriptor it had opened, if any.
fn open_listener(
    parsed: Endpoint,
    endpoint: &str,
    options: &TransportOptions,
) -> Result<(Listener, String), (TransportError, Option<RawFd>)> {
    let io_err = |error| TransportError::Io {
        endpoint: endpoint.to_owned(),
        error,
    };
    let failed = |e: stream::OpenFailed| (io_err(e.error), e.fd);
    Ok(match parsed {
        // ZMQ_USE_FD: the application's listening socket stands in for the address.
        Endpoint::Tcp(_) | Endpoint::Ipc(_) if options.use_fd >= 0 => {
            let plain = |e| (io_err(e), None);
            let transport = if matches!(parsed, Endpoint::Tcp(_)) {
                "tcp"
            } else {
                "ipc"
            };
            let l = stream::listener_from_fd(options.use_fd, transport).map_err(plain)?;
            let shown = match &l {
                Listener::Tcp(t) => {
                    format!("tcp://{}", display_addr(t.local_addr().map_err(plain)?))
                }
                Listener::Unix(u, _) => {
                    let local = u.local_addr().map_err(plain)?;
                    match local.as_pathname() {
                        Some(p) => format!("ipc://{}", p.display()),
                        None => endpoint.to_owned(),
                    }
                }
            };
            (l, shown)
        }
        Endpoint::Tcp(tcp) => {
            let addr = bind_address(&tcp.host, tcp.port, options.ipv6).map_err(|e| (e, None))?;
            let l = stream::bind_tcp(addr, options).map_err(failed)?;
            let local = l.local_addr().map_err(|e| (io_err(e), None))?;
            (Listener::Tcp(l), format!("tcp://{}", display_addr(local)))
        }
        Endpoint::Ipc(ipc) => {
            let addr = match ipc {
                IpcEndpoint::Path(p) => UnixAddr::Path(p),
                IpcEndpoint::Abstract(name) => UnixAddr::Abstract(name),
                IpcEndpoint::Generated => UnixAddr::Path(generated_ipc_path()),
            };
            let l = stream::bind_unix(&addr, options).map_err(failed)?;
            let shown = match &addr {
                UnixAddr::Path(p) => format!("ipc://{}", p.display()),
                UnixAddr::Abstract(n) => format!("ipc://@{}", String::from_utf8_lossy(n)),
            };
            (l, shown)
        }
        // Handled by the caller.
        Endpoint::Inproc(name) => {
            return Err((
                TransportError::Endpoint(EndpointError::Invalid {
                    endpoint: format!("inproc://{name}"),
                    reason: "inproc has no listener",
                }),
                None,
            ))
        }
    })
}

/// The local address for a bind (or a connect's source): `*`, a literal, an interface
/// name, or a host name.
fn bind_address(host: &Host, port: u16, ipv6: bool) -> Result<SocketAddr, TransportError> {
    match host {
        Host::Any => Ok(if ipv6 {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port)
        } else {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port)
        }),
        Host::Ip(IpAddr::V6(ip), scope) => {
            Ok(SocketAddr::V6(SocketAddrV6::new(*ip, port, 0, *scope)))
        }
        Host::Ip(ip, _) => Ok(SocketAddr::new(*ip, port)),
        Host::Name(name) => {
            let from_interface = crate::net::interface_addresses(name)
                .into_iter()
                .find(|a| ipv6 || a.is_ipv4());
            if let Some(ip) = from_interface {
                return Ok(SocketAddr::new(ip, port));
            }
            (name.as_str(), port)
                .to_socket_addrs()
                .ok()
                .and_then(|mut it| it.find(|a| ipv6 || a.is_ipv4()))
                .ok_or_else(|| TransportError::NoSuchDevice(name.clone()))
        }
    }
}

pub(crate) fn display_addr(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V6(v6) => format!("[{}]:{}", v6.ip(), v6.port()),
        v4 => v4.to_string(),
    }
}

/// A fresh path for `ipc://*`, in the temporary directory (libzmq makes one there too).
fn generated_ipc_path() -> std::path::PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("zmq-{}-{n}.sock", std::process::id()))
}
