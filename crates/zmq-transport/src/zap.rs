//! ZAP (RFC 27) for the engines: where a handshake's ZAP request goes, and how the reply
//! comes back.
//!
//! A request goes to one of two handlers, as the context is configured:
//!
//! - an in-process [`Authorizer`] set on the runtime ([`Runtime::set_authorizer`]): it is
//!   called on the runtime's own authorization thread, never on an I/O thread, so it may
//!   take its time (a slow one delays only other authorizations, and `ZMQ_HANDSHAKE_IVL`
//!   bounds each handshake);
//! - otherwise whatever socket is bound at `inproc://zeromq.zap.01` in the same context,
//!   as in libzmq: the engine joins it with an inproc pipe, as a REQ-like client (an empty
//!   delimiter, then the request's frames), and the handler, a REP or a ROUTER, answers on
//!   the same pipe.
//!
//! Either way the reply arrives on a pipe whose reader is registered with the engine's I/O
//! thread, so the reply wakes the engine like any pipe.
//!
//! [`Runtime::set_authorizer`]: crate::Runtime::set_authorizer

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use bytes::Bytes;
use parking_lot::Mutex;
use zmq_security::{HandshakeError, ZapReply, ZapRequest, ZapStatus};
use zmtp_codec::{Frame, Metadata, SocketType};

use crate::pipe::{pipe_pair, queue, PipeEnd, Read as PipeRead, Reader, Wake, Writer};
use crate::runtime::{Inproc, NewPeer};

/// The inproc name a ZAP handler binds (RFC 27).
pub const ZAP_ENDPOINT: &str = "zeromq.zap.01";

/// An in-process ZAP handler: decides about each peer a handshake asks about.
///
/// It is called on the runtime's authorization thread, one request at a time, never on an
/// I/O thread. It may block (query a database, say), but while it does, other handshakes
/// wait for their turn, and each handshake still ends after `ZMQ_HANDSHAKE_IVL`. A panic
/// in it is caught and answered with status 500.
pub trait Authorizer: Send + Sync + 'static {
    /// The reply to `request`: [`ZapReply::allow`] with the peer's user id, or
    /// [`ZapReply::deny`] with status 300, 400 or 500.
    fn authorize(&self, request: &ZapRequest) -> ZapReply;
}

/// A request for the authorization thread, with the pipe its reply goes into.
struct Job {
    authorizer: Arc<dyn Authorizer>,
    request: ZapRequest,
    reply: Writer,
}

/// The authorization thread, started with the first request.
struct Worker {
    jobs: Sender<Job>,
    /// Never joined (see [`ZapRouter::shutdown`]).
    _thread: JoinHandle<()>,
}

/// Where the engines of one runtime send their ZAP requests.
pub(crate) struct ZapRouter {
    inproc: Arc<Mutex<Inproc>>,
    authorizer: Mutex<Option<Arc<dyn Authorizer>>>,
    worker: Mutex<Option<Worker>>,
}

/// A ZAP request on its way: the engine polls it for the reply.
pub(crate) struct ZapPending {
    /// The reply comes out of this.
    reader: Reader,
    /// Kept open until the reply is in: closing it would tell a handler socket that its
    /// client is gone, and a REP would drop the reply.
    _writer: Option<Writer>,
    /// Frames of the reply read so far.
    frames: Vec<Bytes>,
}

/// What [`ZapPending::poll`] found.
pub(crate) enum ZapPoll {
    /// The whole reply, frame by frame.
    Reply(Vec<Bytes>),
    /// Not yet; the engine is woken when it comes.
    Waiting,
    /// The handler went away without answering.
    Gone,
}

impl ZapRouter {
    pub(crate) fn new(inproc: Arc<Mutex<Inproc>>) -> Self {
        Self {
            inproc,
            authorizer: Mutex::new(None),
            worker: Mutex::new(None),
        }
    }

    /// Sets (or with `None`, removes) the in-process authorizer. Handshakes that asked
    /// before keep the one they asked.
    pub(crate) fn set_authorizer(&self, authorizer: Option<Arc<dyn Authorizer>>) {
        *self.authorizer.lock() = authorizer;
    }

    /// Whether a ZAP handler is available: an authorizer, or something bound at
    /// `inproc://zeromq.zap.01`.
    pub(crate) fn has_handler(&self) -> bool {
        self.authorizer.lock().is_some() || self.inproc.lock().bound.contains_key(ZAP_ENDPOINT)
    }

    /// Sends `request` to the handler. The reply wakes `waker` with `token` when it
    /// arrives; poll the result for it.
    ///
    /// Fails with [`HandshakeError::NoZapHandler`] if there is no handler any more, or if
    /// what is bound at `inproc://zeromq.zap.01` is neither a REP nor a ROUTER (libzmq
    /// asserts there): the handshake fails closed rather than skip authentication.
    pub(crate) fn ask(
        &self,
        request: ZapRequest,
        waker: &Arc<dyn Wake>,
        token: u64,
    ) -> Result<ZapPending, HandshakeError> {
        let no_handler = HandshakeError::NoZapHandler {
            mechanism: request.mechanism,
        };
        let authorizer = self.authorizer.lock().clone();
        if let Some(authorizer) = authorizer {
            let (writer, reader) = queue(0);
            reader.set_waker(Arc::clone(waker), token);
            self.submit(Job {
                authorizer,
                request,
                reply: writer,
            })
            .map_err(|_| no_handler)?;
            return Ok(ZapPending {
                reader,
                _writer: None,
                frames: Vec::new(),
            });
        }
        let handler = {
            let inproc = self.inproc.lock();
            inproc
                .bound
                .get(ZAP_ENDPOINT)
                .map(|b| (Arc::clone(&b.link), b.options.socket_type, b.id))
        };
        let Some((link, socket_type, id)) = handler else {
            return Err(no_handler);
        };
        if !matches!(socket_type, SocketType::Rep | SocketType::Router) {
            return Err(no_handler);
        }
        // No high-water mark: one message goes each way.
        let (ours, theirs) = pipe_pair(0, 0);
        let PipeEnd { mut writer, reader } = ours;
        reader.set_waker(Arc::clone(waker), token);
        writer.set_waker(Arc::clone(waker), token);
        // What the handler reads carries our socket type, as an inproc peer's would.
        let mut md = Metadata::new();
        let _ = md.insert(zmtp_codec::metadata::SOCKET_TYPE, SocketType::Dealer.name());
        writer.set_metadata(Arc::new(md));
        let frames = request.frames();
        let last = frames.len() - 1;
        for (i, frame) in frames.into_iter().enumerate() {
            writer.write(Frame::new(frame, i < last));
        }
        link.attach(NewPeer::new(
            theirs,
            Bytes::new(),
            Some(SocketType::Dealer),
            Some(id),
        ));
        writer.flush();
        // The engine polls at once, which registers the reader for the wake-up.
        Ok(ZapPending {
            reader,
            _writer: Some(writer),
            frames: Vec::new(),
        })
    }

    fn submit(&self, job: Job) -> Result<(), ()> {
        let mut worker = self.worker.lock();
        if worker.is_none() {
            let (jobs, rx) = mpsc::channel::<Job>();
            let thread = std::thread::Builder::new()
                .name("zmq-authorizer".into())
                .spawn(move || {
                    for job in rx {
                        run_job(job);
                    }
                })
                .map_err(|_| ())?;
            *worker = Some(Worker {
                jobs,
                _thread: thread,
            });
        }
        match worker.as_ref() {
            Some(w) => w.jobs.send(job).map_err(|_| ()),
            None => Err(()),
        }
    }

    /// Lets the authorization thread end once it has answered what it was asked. It is
    /// not waited for, so that an authorizer that never returns cannot hang the context's
    /// termination.
    pub(crate) fn shutdown(&self) {
        drop(self.worker.lock().take());
    }
}

fn run_job(job: Job) {
    let Job {
        authorizer,
        request,
        mut reply,
    } = job;
    let answer = catch_unwind(AssertUnwindSafe(|| authorizer.authorize(&request)))
        .unwrap_or_else(|_| ZapReply::deny(ZapStatus::INTERNAL, "the authorizer panicked"));
    let frames = answer.to_frames();
    let last = frames.len() - 1;
    for (i, frame) in frames.into_iter().enumerate() {
        reply.write(Frame::new(frame, i < last));
    }
    reply.flush();
}

impl ZapPending {
    /// Takes the reply if it has arrived.
    pub(crate) fn poll(&mut self) -> ZapPoll {
        loop {
            match self.reader.read() {
                PipeRead::Frame(frame) => {
                    let more = frame.more;
                    self.frames.push(frame.data.into_bytes());
                    if !more {
                        return ZapPoll::Reply(std::mem::take(&mut self.frames));
                    }
                }
                PipeRead::Empty => return ZapPoll::Waiting,
                PipeRead::Closed => return ZapPoll::Gone,
            }
        }
    }
}
