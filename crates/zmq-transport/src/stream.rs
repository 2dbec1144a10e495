//! Byte streams and listeners of the tcp and ipc transports, made non-blocking and
//! configured from the socket options.

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::Duration;

use socket2::{Domain, SockAddr, Socket, TcpKeepalive, Type};

use crate::options::TransportOptions;

/// A connected stream.
#[derive(Debug)]
pub(crate) enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    /// The peer's address as `Peer-Address` reports it: the IP for TCP, empty for ipc.
    pub(crate) fn peer_address(&self) -> String {
        match self {
            Self::Tcp(s) => s
                .peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default(),
            Self::Unix(_) => String::new(),
        }
    }
}

/// On Linux the socket calls themselves (`recv`, `send`, `recvmsg`, `sendmsg`), not the
/// file ones (`read`, `write`, `readv`, `writev`), which first go through the file layer
/// (a file-position lock check, an access-range check, change notification): about 4% of
/// the samples of a process making small-message round trips. Writes pass
/// `MSG_NOSIGNAL`, so a peer gone does not raise `SIGPIPE` in a host program that does
/// not ignore it: the write fails with `EPIPE`.
#[cfg(any(target_os = "linux", target_os = "android"))]
mod calls {
    use std::io::{self, IoSlice, IoSliceMut};
    use std::os::fd::BorrowedFd;

    use rustix::net::{RecvAncillaryBuffer, RecvFlags, SendAncillaryBuffer, SendFlags};

    pub(super) fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match rustix::net::recv(fd, &mut *buf, RecvFlags::empty()) {
                Ok((n, _)) => return Ok(n),
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    pub(super) fn read_vectored(
        fd: BorrowedFd<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> io::Result<usize> {
        loop {
            let mut control = RecvAncillaryBuffer::default();
            match rustix::net::recvmsg(fd, bufs, &mut control, RecvFlags::empty()) {
                Ok(msg) => return Ok(msg.bytes),
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    pub(super) fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
        loop {
            match rustix::net::send(fd, buf, SendFlags::NOSIGNAL) {
                Ok(n) => return Ok(n),
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    pub(super) fn write_vectored(fd: BorrowedFd<'_>, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        loop {
            let mut control = SendAncillaryBuffer::default();
            match rustix::net::sendmsg(fd, bufs, &mut control, SendFlags::NOSIGNAL) {
                Ok(n) => return Ok(n),
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        calls::read(self.as_fd(), buf)
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        calls::read_vectored(self.as_fd(), bufs)
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        calls::write(self.as_fd(), buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        calls::write_vectored(self.as_fd(), bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Tcp(s) => s.read(buf),
            Self::Unix(s) => s.read(buf),
        }
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        match self {
            Self::Tcp(s) => s.read_vectored(bufs),
            Self::Unix(s) => s.read_vectored(bufs),
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Tcp(s) => s.write(buf),
            Self::Unix(s) => s.write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Self::Tcp(s) => s.write_vectored(bufs),
            Self::Unix(s) => s.write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsFd for Stream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Self::Tcp(s) => s.as_fd(),
            Self::Unix(s) => s.as_fd(),
        }
    }
}

impl AsRawFd for Stream {
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

/// A bound listener.
#[derive(Debug)]
pub(crate) enum Listener {
    Tcp(TcpListener),
    /// A Unix listener and the socket file to remove when it closes (none for abstract
    /// names).
    Unix(UnixListener, Option<SocketFile>),
}

impl Listener {
    /// Accepts one connection, non-blocking and configured.
    pub(crate) fn accept(&self, options: &TransportOptions) -> io::Result<Stream> {
        match self {
            Self::Tcp(l) => {
                let (s, peer) = l.accept()?;
                if !options.accepts_peer(peer.ip()) {
                    // ZMQ_TCP_ACCEPT_FILTER: closed at once, as libzmq.
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        format!("{peer} is outside ZMQ_TCP_ACCEPT_FILTER"),
                    ));
                }
                configure_tcp(&s, options)?;
                s.set_nonblocking(true)?;
                Ok(Stream::Tcp(s))
            }
            Self::Unix(l, _) => {
                let (s, _) = l.accept()?;
                s.set_nonblocking(true)?;
                Ok(Stream::Unix(s))
            }
        }
    }
}

/// The file a Unix listener bound, identified by device and inode: another socket bound
/// to the same path since (which replaces the file) keeps its file when this one closes.
#[derive(Debug)]
pub(crate) struct SocketFile {
    path: PathBuf,
    id: Option<(u64, u64)>,
}

impl SocketFile {
    fn new(path: PathBuf) -> Self {
        let id = file_id(&path);
        Self { path, id }
    }
}

fn file_id(path: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Self::Unix(_, Some(file)) = self {
            if file.id.is_some() && file_id(&file.path) == file.id {
                let _ = std::fs::remove_file(&file.path);
            }
        }
    }
}

impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Self::Tcp(l) => l.as_fd(),
            Self::Unix(l, _) => l.as_fd(),
        }
    }
}

impl AsRawFd for Listener {
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

/// Applies the per-connection TCP options: no Nagle (as libzmq always), keepalive, buffer
/// sizes and type of service.
pub(crate) fn configure_tcp(stream: &TcpStream, options: &TransportOptions) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let sock = socket2::SockRef::from(stream);
    apply_buffers(&sock, options)?;
    if options.tcp_keepalive == 1 {
        let mut ka = TcpKeepalive::new();
        if options.tcp_keepalive_idle > 0 {
            ka = ka.with_time(Duration::from_secs(options.tcp_keepalive_idle as u64));
        }
        if options.tcp_keepalive_intvl > 0 {
            ka = ka.with_interval(Duration::from_secs(options.tcp_keepalive_intvl as u64));
        }
        if options.tcp_keepalive_cnt > 0 {
            ka = ka.with_retries(options.tcp_keepalive_cnt as u32);
        }
        sock.set_tcp_keepalive(&ka)?;
    } else if options.tcp_keepalive == 0 {
        sock.set_keepalive(false)?;
    }
    Ok(())
}

fn apply_buffers(sock: &Socket, options: &TransportOptions) -> io::Result<()> {
    if options.sndbuf >= 0 {
        sock.set_send_buffer_size(options.sndbuf as usize)?;
    }
    if options.rcvbuf >= 0 {
        sock.set_recv_buffer_size(options.rcvbuf as usize)?;
    }
    if options.tos > 0 {
        // As libzmq: IP_TOS, and IPV6_TCLASS on IPv6 sockets; each fails harmlessly on the
        // other family.
        let _ = sock.set_tos_v4(options.tos as u32);
        let _ = sock.set_tclass_v6(options.tos as u32);
    }
    apply_linux_options(sock, options)
}

/// `ZMQ_PRIORITY`, `ZMQ_BUSY_POLL` and `ZMQ_TCP_MAXRT`, which Linux has (libzmq: the same
/// `tune_*` calls, compiled where the OS has the option).
#[cfg(target_os = "linux")]
fn apply_linux_options(sock: &Socket, options: &TransportOptions) -> io::Result<()> {
    if options.priority > 0 {
        sock.set_priority(options.priority as u32)?;
    }
    if options.busy_poll > 0 {
        sock.set_busy_poll(options.busy_poll as u32)?;
    }
    if let Some(maxrt) = options.tcp_maxrt {
        sock.set_tcp_user_timeout(Some(maxrt))?;
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn apply_linux_options(_sock: &Socket, _options: &TransportOptions) -> io::Result<()> {
    Ok(())
}

/// `ZMQ_BINDTODEVICE` (`SO_BINDTODEVICE`), on listeners and connecting sockets as libzmq;
/// accepted sockets inherit it. Needs `CAP_NET_RAW`: without it the bind or connect fails
/// with the OS's `EPERM`.
fn bind_to_device(sock: &Socket, options: &TransportOptions) -> io::Result<()> {
    if options.bind_to_device.is_empty() {
        return Ok(());
    }
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "fuchsia"))]
    {
        sock.bind_device(Some(&options.bind_to_device))
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "fuchsia")))]
    {
        let _ = sock;
        Err(io::Error::from_raw_os_error(libc::ENOTSUP))
    }
}

/// A listener on a descriptor the application opened, bound and made listen
/// (`ZMQ_USE_FD`), for an endpoint of `transport` (`"tcp"` or `"ipc"`).
///
/// The descriptor is duplicated, so the application keeps its own and this listener closes
/// only the duplicate (libzmq closes the application's descriptor when it unbinds).
pub(crate) fn listener_from_fd(fd: RawFd, transport: &str) -> io::Result<Listener> {
    use std::os::fd::{FromRawFd, OwnedFd};
    let invalid = |why: String| io::Error::new(io::ErrorKind::InvalidInput, why);
    if fd < 0 {
        return Err(invalid(format!("ZMQ_USE_FD {fd} is not a descriptor")));
    }
    // SAFETY: `fcntl(F_DUPFD_CLOEXEC)` takes any integer and only reads the descriptor
    // table: an invalid one gives EBADF. No memory is passed.
    #[allow(unsafe_code)]
    let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if dup < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `dup` was just made by fcntl above: it is open and nothing else owns it.
    #[allow(unsafe_code)]
    let owned = unsafe { OwnedFd::from_raw_fd(dup) };
    let sock = Socket::from(owned);
    let domain = sock.domain()?;
    let family_ok = match transport {
        "tcp" => domain == Domain::IPV4 || domain == Domain::IPV6,
        "ipc" => domain == Domain::UNIX,
        _ => false,
    };
    if !family_ok || sock.r#type()? != Type::STREAM {
        return Err(invalid(format!(
            "ZMQ_USE_FD {fd} is not a stream socket of the {transport} endpoint's family"
        )));
    }
    if !sock.is_listener()? {
        return Err(invalid(format!(
            "ZMQ_USE_FD {fd} is not listening: bind it and call listen() before zmq bind"
        )));
    }
    sock.set_nonblocking(true)?;
    Ok(if transport == "tcp" {
        Listener::Tcp(sock.into())
    } else {
        Listener::Unix(sock.into(), None)
    })
}

/// Binds a TCP listener to `addr` with the socket options.
pub(crate) fn bind_tcp(
    addr: SocketAddr,
    options: &TransportOptions,
) -> Result<TcpListener, OpenFailed> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    let setup = || -> io::Result<()> {
        // As libzmq: rebinding a port in TIME_WAIT must work at once.
        sock.set_reuse_address(true)?;
        if addr.is_ipv6() {
            // Dual-stack when binding an IPv6 wildcard with ZMQ_IPV6.
            sock.set_only_v6(false)?;
        }
        apply_buffers(&sock, options)?;
        bind_to_device(&sock, options)?;
        sock.bind(&addr.into())?;
        sock.listen(options.backlog.max(1))?;
        sock.set_nonblocking(true)
    };
    setup().map_err(|error| OpenFailed {
        error,
        fd: Some(sock.as_raw_fd()),
    })?;
    Ok(sock.into())
}

/// A bind or connect that failed at once, with the descriptor it had opened (now closed),
/// which the monitor reports as libzmq does.
#[derive(Debug)]
pub(crate) struct OpenFailed {
    pub(crate) error: io::Error,
    pub(crate) fd: Option<RawFd>,
}

impl From<io::Error> for OpenFailed {
    fn from(error: io::Error) -> Self {
        Self { error, fd: None }
    }
}

/// Starts a non-blocking TCP connect to `addr`, from `source` if given. Returns the
/// stream and whether the connect is still in progress (`EINPROGRESS`).
pub(crate) fn start_tcp_connect(
    addr: SocketAddr,
    source: Option<SocketAddr>,
    options: &TransportOptions,
) -> Result<(TcpStream, bool), OpenFailed> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    let fd = sock.as_raw_fd();
    let opened = |error| OpenFailed {
        error,
        fd: Some(fd),
    };
    apply_buffers(&sock, options).map_err(opened)?;
    bind_to_device(&sock, options).map_err(opened)?;
    if let Some(src) = source {
        sock.set_reuse_address(true).map_err(opened)?;
        sock.bind(&src.into()).map_err(opened)?;
    }
    sock.set_nonblocking(true).map_err(opened)?;
    let in_progress = match sock.connect(&addr.into()) {
        Ok(()) => false,
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => true,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => true,
        Err(e) => return Err(opened(e)),
    };
    let stream: TcpStream = sock.into();
    configure_tcp(&stream, options).map_err(opened)?;
    Ok((stream, in_progress))
}

/// Binds a Unix listener on a path or an abstract name.
pub(crate) fn bind_unix(
    addr: &UnixAddr,
    options: &TransportOptions,
) -> Result<Listener, OpenFailed> {
    let sock = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    let fd = sock.as_raw_fd();
    bind_unix_socket(sock, addr, options).map_err(|error| OpenFailed {
        error,
        fd: Some(fd),
    })
}

fn bind_unix_socket(
    sock: Socket,
    addr: &UnixAddr,
    options: &TransportOptions,
) -> io::Result<Listener> {
    let path = match addr {
        UnixAddr::Path(p) => {
            // As libzmq: a stale socket file from a process that died is replaced.
            if std::fs::symlink_metadata(p).is_ok_and(|m| is_socket(&m)) {
                let _ = std::fs::remove_file(p);
            }
            sock.bind(&SockAddr::unix(p)?)?;
            Some(SocketFile::new(p.clone()))
        }
        UnixAddr::Abstract(name) => {
            sock.bind(&abstract_addr(name)?)?;
            None
        }
    };
    sock.listen(options.backlog.max(1))?;
    sock.set_nonblocking(true)?;
    Ok(Listener::Unix(sock.into(), path))
}

/// Starts a non-blocking Unix connect.
pub(crate) fn start_unix_connect(addr: &UnixAddr) -> Result<(UnixStream, bool), OpenFailed> {
    let sock = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    let fd = sock.as_raw_fd();
    let opened = |error| OpenFailed {
        error,
        fd: Some(fd),
    };
    sock.set_nonblocking(true).map_err(opened)?;
    let target = match addr {
        UnixAddr::Path(p) => SockAddr::unix(p).map_err(opened)?,
        UnixAddr::Abstract(name) => abstract_addr(name).map_err(opened)?,
    };
    let in_progress = match sock.connect(&target) {
        Ok(()) => false,
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => true,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => true,
        Err(e) => return Err(opened(e)),
    };
    Ok((sock.into(), in_progress))
}

/// A resolved ipc address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum UnixAddr {
    Path(PathBuf),
    Abstract(Vec<u8>),
}

/// A Linux abstract-namespace address: socket2 takes it as a path starting with NUL.
fn abstract_addr(name: &[u8]) -> io::Result<SockAddr> {
    use std::os::unix::ffi::OsStrExt;
    if !cfg!(target_os = "linux") {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "abstract ipc names exist only on Linux",
        ));
    }
    let mut path = Vec::with_capacity(name.len() + 1);
    path.push(0u8);
    path.extend_from_slice(name);
    SockAddr::unix(std::ffi::OsStr::from_bytes(&path))
}

fn is_socket(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_socket()
}

/// The error of a finished non-blocking connect, if it failed.
pub(crate) fn take_connect_error(stream: &Stream) -> io::Result<()> {
    let sock = socket2::SockRef::from(stream);
    match sock.take_error()? {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    use super::Stream;

    /// Whether SIGPIPE is pending for this thread (it is blocked here, so a write that
    /// raised it left it pending), taking it if so.
    #[allow(unsafe_code)]
    fn take_pending_sigpipe() -> bool {
        // SAFETY: plain calls on sigset_t values owned by this frame.
        unsafe {
            let mut pending: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut pending);
            libc::sigpending(&mut pending);
            if libc::sigismember(&pending, libc::SIGPIPE) != 1 {
                return false;
            }
            let mut only: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut only);
            libc::sigaddset(&mut only, libc::SIGPIPE);
            let zero = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            libc::sigtimedwait(&only, std::ptr::null_mut(), &zero);
            true
        }
    }

    /// Blocks SIGPIPE on this thread while `f` runs, so that one raised stays pending
    /// (a blocked signal is kept even when its disposition is to ignore it).
    #[allow(unsafe_code)]
    fn with_sigpipe_blocked<T>(f: impl FnOnce() -> T) -> T {
        // SAFETY: changes this thread's mask only, and restores it.
        unsafe {
            let mut block: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut block);
            libc::sigaddset(&mut block, libc::SIGPIPE);
            libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut old);
            let out = f();
            libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
            out
        }
    }

    #[test]
    fn a_write_to_a_peer_gone_fails_without_raising_sigpipe() {
        with_sigpipe_blocked(|| {
            let _ = take_pending_sigpipe();
            let (ours, peer) = UnixStream::pair().unwrap();
            drop(peer);
            let mut stream = Stream::Unix(ours);
            let e = stream.write(b"x").unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::EPIPE));
            let e = stream
                .write_vectored(&[std::io::IoSlice::new(b"y")])
                .unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::EPIPE));
            assert!(!take_pending_sigpipe(), "our writes raised SIGPIPE");
            // The check itself works: the standard library's vectored write (`writev`,
            // which the engine made before) raises it.
            let (plain, peer) = UnixStream::pair().unwrap();
            drop(peer);
            assert!((&plain)
                .write_vectored(&[std::io::IoSlice::new(b"z")])
                .is_err());
            assert!(
                take_pending_sigpipe(),
                "a `writev` should have raised SIGPIPE"
            );
        });
    }
}
