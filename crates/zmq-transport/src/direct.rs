//! The wait of a socket's thread on a connection it reads itself
//! ([`crate::pipe::DirectRead`]): on the connection's stream and on the socket's own
//! wake-up descriptor. And the bytes a value to send borrows, which the socket's thread
//! may write itself ([`crate::pipe::DirectWrite`]).

use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::time::{Duration, Instant};

/// How long a wait first polls without sleeping, when the last wait was over within that
/// time and another core can run the peer meanwhile. A thread that sleeps for a reply a
/// few microseconds away pays for its core going idle and being woken again: measured here
/// (two cores, a virtual machine) as half of a small message's round trip over tcp and
/// ipc (1 B: 13.3 -> 6.6 us over ipc, 15.3 -> 7.8 over tcp, with 50 us). The same bound as
/// an inproc socket's spin (`zmq::core::INPROC_SPIN`).
const SPIN: Duration = Duration::from_micros(50);

/// Whether polling (or spinning) without sleeping can pay: there is another core to run
/// the peer meanwhile. Also the test of an inproc socket's spin in the facade.
pub fn spin_pays() -> bool {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from)) > 1
}

/// The bytes `value` borrows, when it is a reference to bytes (`&[u8]`, `&str`,
/// `&Vec<u8>`, `&String`): what a send generic over the types that convert into a message
/// can write from where they are ([`crate::pipe::DirectWrite`]), instead of copying them
/// into a message of their own first. `None` for any other type (owned bytes, a message).
pub fn borrowed_bytes<'v, T>(value: &'v T) -> Option<&'v [u8]> {
    let id = typeid::of::<T>();
    if id == typeid::of::<&[u8]>() {
        Some(cast::<T, &'v [u8]>(value))
    } else if id == typeid::of::<&str>() {
        Some(cast::<T, &'v str>(value).as_bytes())
    } else if id == typeid::of::<&Vec<u8>>() {
        Some(cast::<T, &'v Vec<u8>>(value).as_slice())
    } else if id == typeid::of::<&String>() {
        Some(cast::<T, &'v String>(value).as_bytes())
    } else {
        None
    }
}

/// `value` as a `&R`, for [`borrowed_bytes`] once it has found that `T` is `R` but for
/// lifetimes: `T` is `&'a X` and `R` is `&'v X`, `'v` being the borrow of `value`.
#[inline(always)]
fn cast<T, R: Copy>(value: &T) -> &R {
    // SAFETY: `T` and `R` have the same type id but for lifetimes (the caller checked),
    // so the same layout. `'a` outlives `'v` (the borrow of `value`, a `&'v &'a X`,
    // requires it), so reading the reference as `&'v X` only shortens it.
    #[allow(unsafe_code)]
    unsafe {
        &*std::ptr::from_ref(value).cast::<R>()
    }
}

/// What a socket's thread waits on in [`crate::pipe::DirectRead::wait`]: its wake-up
/// descriptor and one connection's stream at a time.
///
/// On Linux it is an `epoll` instance of the socket's own, where both stay registered from
/// one wait to the next (a `poll` of the two sets up and takes down a wait on each at every
/// call). Elsewhere it is `poll`.
///
/// A wait polls without sleeping for up to 50 us (`SPIN`) first while replies come that
/// fast (the last wait was over within it): a request-reply loop then never sleeps, and
/// a socket whose peer is slower sleeps at once from its second wait on.
pub struct DirectPoll {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    epoll: std::os::fd::OwnedFd,
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    wake: RawFd,
    /// The connection registered now: its descriptor and the identity of its waiter
    /// (closing a descriptor takes it out of the set, and its number is then reused).
    conn: Option<(RawFd, u64)>,
    /// The last wait was over within [`SPIN`]: the next one polls first.
    spin: bool,
}

/// The data of the wake-up descriptor's registration.
#[cfg(any(target_os = "linux", target_os = "android"))]
const WAKE: u64 = 0;
/// The data of the connection's registration.
#[cfg(any(target_os = "linux", target_os = "android"))]
const CONN: u64 = 1;

impl DirectPoll {
    /// A wait on `wake` (which must outlive this) and, later, on connections.
    pub fn new(wake: BorrowedFd<'_>) -> io::Result<Self> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::event::epoll::{self, CreateFlags, EventData, EventFlags};
            let epoll = epoll::create(CreateFlags::CLOEXEC)?;
            epoll::add(&epoll, wake, EventData::new_u64(WAKE), EventFlags::IN)?;
            Ok(Self {
                epoll,
                conn: None,
                spin: true,
            })
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        Ok(Self {
            wake: std::os::fd::AsRawFd::as_raw_fd(&wake),
            conn: None,
            spin: true,
        })
    }

    /// Watches `conn`, the stream of the waiter `id`, instead of the connection watched
    /// before (called while the stream is known to be open).
    pub(crate) fn watch(&mut self, conn: BorrowedFd<'_>, id: u64) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let fd = conn.as_raw_fd();
        if self.conn == Some((fd, id)) {
            return Ok(());
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::event::epoll::{self, EventData, EventFlags};
            if let Some((old, _)) = self.conn.take() {
                if old != fd {
                    // SAFETY: only named to the kernel, to take it out of the set; one
                    // closed since is out of it already, and the call then fails, which is
                    // ignored (a number reused by an unrelated file is not in the set).
                    #[allow(unsafe_code)]
                    let old = unsafe { BorrowedFd::borrow_raw(old) };
                    let _ = epoll::delete(&self.epoll, old);
                }
            }
            let data = EventData::new_u64(CONN);
            match epoll::add(&self.epoll, conn, data, EventFlags::IN) {
                Err(rustix::io::Errno::EXIST) => {
                    epoll::modify(&self.epoll, conn, data, EventFlags::IN)?
                }
                other => other?,
            }
        }
        self.conn = Some((fd, id));
        Ok(())
    }

    /// Waits until the connection watched is readable (or hung up, or failed), the wake-up
    /// descriptor is, or `timeout` passes (`None`: no limit). Returns whether the
    /// connection is readable; an interrupted wait returns `Ok(false)`.
    pub(crate) fn wait(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        let start = Instant::now();
        if self.spin && spin_pays() {
            let limit = timeout.map_or(SPIN, |t| t.min(SPIN));
            loop {
                if let Some(readable) = self.wait_once(Some(Duration::ZERO))? {
                    return Ok(readable);
                }
                if start.elapsed() >= limit {
                    break;
                }
                std::hint::spin_loop();
            }
        }
        let left = timeout.map(|t| t.saturating_sub(start.elapsed()));
        let readable = self.wait_once(left)?.unwrap_or(false);
        self.spin = start.elapsed() < SPIN;
        Ok(readable)
    }

    /// One wait of at most `timeout`: `None` if nothing was ready, else whether the
    /// connection is.
    fn wait_once(&mut self, timeout: Option<Duration>) -> io::Result<Option<bool>> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use std::mem::MaybeUninit;

            use rustix::event::{epoll, Timespec};
            // Whole milliseconds, rounded up: waking early would only wait again.
            let timeout = timeout.map(|t| {
                let ms = t.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i64;
                Timespec {
                    tv_sec: ms / 1000,
                    tv_nsec: (ms % 1000) * 1_000_000,
                }
            });
            let mut events = [MaybeUninit::<epoll::Event>::uninit(); 2];
            match epoll::wait(&self.epoll, &mut events, timeout.as_ref()) {
                Ok(([], _)) => Ok(None),
                Ok((ready, _)) => Ok(Some(ready.iter().any(|e| e.data.u64() == CONN))),
                Err(rustix::io::Errno::INTR) => Ok(Some(false)),
                Err(e) => Err(e.into()),
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            use crate::net::{poll_fds, PollFd, POLLIN};
            let Some((fd, _)) = self.conn else {
                return Ok(Some(false));
            };
            let mut fds = [
                PollFd {
                    fd,
                    events: POLLIN,
                    revents: 0,
                },
                PollFd {
                    fd: self.wake,
                    events: POLLIN,
                    revents: 0,
                },
            ];
            let ready = poll_fds(&mut fds, timeout)?;
            Ok((ready > 0).then_some(fds[0].revents != 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::{AsFd, AsRawFd};
    use std::os::unix::net::UnixStream;

    #[test]
    fn borrowed_bytes_are_found_for_references_to_bytes_only() {
        let vec = b"vector".to_vec();
        let string = String::from("string");
        let slice: &[u8] = b"slice";
        assert_eq!(borrowed_bytes(&slice), Some(&b"slice"[..]));
        assert_eq!(borrowed_bytes(&"str"), Some(&b"str"[..]));
        assert_eq!(borrowed_bytes(&&vec), Some(&b"vector"[..]));
        assert_eq!(borrowed_bytes(&&string), Some(&b"string"[..]));
        // A borrow of any lifetime, not only 'static.
        let local = vec.clone();
        let short: &[u8] = &local[1..3];
        assert_eq!(borrowed_bytes(&short), Some(&b"ec"[..]));
        // Owned bytes, other references and arrays are not.
        assert_eq!(borrowed_bytes(&vec), None);
        assert_eq!(borrowed_bytes(&string), None);
        assert_eq!(borrowed_bytes(&b"array"), None);
        assert_eq!(borrowed_bytes(&&mut local.clone()[..]), None);
        assert_eq!(borrowed_bytes(&bytes::Bytes::from_static(b"x")), None);
        assert_eq!(borrowed_bytes(&7u64), None);
    }

    fn watch_wait(
        poll: &mut DirectPoll,
        conn: &UnixStream,
        id: u64,
        timeout: Option<Duration>,
    ) -> io::Result<bool> {
        poll.watch(conn.as_fd(), id)?;
        poll.wait(timeout)
    }

    #[test]
    fn waits_on_the_connection_and_the_wake_up_and_follows_a_new_connection() {
        let (mut wake_rx, mut wake_tx) = UnixStream::pair().unwrap();
        let mut poll = DirectPoll::new(wake_rx.as_fd()).unwrap();
        let short = Some(Duration::from_millis(1));
        let (a, mut a_peer) = UnixStream::pair().unwrap();
        assert!(!watch_wait(&mut poll, &a, 1, short).unwrap(), "nothing yet");
        a_peer.write_all(b"x").unwrap();
        assert!(watch_wait(&mut poll, &a, 1, short).unwrap());
        // The wake-up ends a wait without the connection being readable.
        let (b, mut b_peer) = UnixStream::pair().unwrap();
        wake_tx.write_all(b"w").unwrap();
        assert!(!watch_wait(&mut poll, &b, 2, None).unwrap());
        wake_rx.read_exact(&mut [0]).unwrap();
        // Only the connection waited on now counts: `a` still has its byte.
        assert!(!watch_wait(&mut poll, &b, 2, short).unwrap());
        b_peer.write_all(b"y").unwrap();
        assert!(watch_wait(&mut poll, &b, 2, short).unwrap());
        // A closed connection's number may be reused by the next one, which is then
        // registered anew (closing took the old one out of the set).
        let old = b.as_raw_fd();
        drop(b);
        let (c, mut c_peer) = UnixStream::pair().unwrap();
        let reused = c.as_raw_fd() == old;
        assert!(
            !watch_wait(&mut poll, &c, 3, short).unwrap(),
            "reused: {reused}"
        );
        c_peer.write_all(b"z").unwrap();
        assert!(
            watch_wait(&mut poll, &c, 3, short).unwrap(),
            "reused: {reused}"
        );
    }

    #[test]
    fn a_wait_longer_than_the_spin_makes_the_next_one_sleep_at_once() {
        let (wake_rx, _wake_tx) = UnixStream::pair().unwrap();
        let mut poll = DirectPoll::new(wake_rx.as_fd()).unwrap();
        let (a, mut a_peer) = UnixStream::pair().unwrap();
        poll.watch(a.as_fd(), 1).unwrap();
        assert!(poll.spin, "a first wait polls first");
        assert!(!poll.wait(Some(Duration::from_millis(2))).unwrap());
        assert!(!poll.spin, "a wait of 2 ms is longer than the spin");
        a_peer.write_all(b"x").unwrap();
        let start = Instant::now();
        assert!(poll.wait(Some(Duration::from_secs(5))).unwrap());
        // Input already there: the wait is over at once, so the next one polls first
        // (unless this thread was held up for longer than the spin).
        if start.elapsed() < SPIN {
            assert!(poll.spin);
        }
    }
}
