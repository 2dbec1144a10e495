//! The I/O thread's readiness poller: edge-triggered, with a wake-up from other threads.
//!
//! On Linux it is `epoll` used directly (through rustix's safe wrappers), because the
//! general-purpose `polling` crate pays for its portability on every wait: it re-arms a
//! `timerfd` (`timerfd_settime` and an `epoll_ctl`), reads its notification `eventfd`
//! and re-registers it (`epoll_ctl` again), four system calls around each `epoll_wait`
//! that a reactor which keeps its own timers as data does not need. Here:
//! - the timeout is `epoll_wait`'s own, in whole milliseconds rounded up (libzmq's timers
//!   have millisecond resolution too), so the thread never wakes before a deadline;
//! - the notification `eventfd` is registered once, edge-triggered, and never read: every
//!   `write` to it raises a new edge, and its counter cannot saturate in practice (2^64 - 2
//!   notifications; 58,000 years at ten million a second);
//! - sources are registered once, edge-triggered; an engine's stream is then watched for
//!   what the engine wants (`set_interest`): output only after a write would block, input
//!   except while the socket's thread waits on it itself.
//!
//! Elsewhere the `polling` crate does the same job.

/// One source's readiness, as one wait reports it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ready {
    /// The key the source was added with.
    pub(crate) key: usize,
    /// Readable, or hung up, or failed: a read will not block.
    pub(crate) readable: bool,
    /// Writable, or failed: a write will not block.
    pub(crate) writable: bool,
    /// The peer hung up (or the socket failed): the end of the input may already wait
    /// behind the data, so a short read does not mean the input is drained.
    pub(crate) hup: bool,
}

#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) use self::epoll::Poller;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) use self::portable::Poller;

#[cfg(any(target_os = "linux", target_os = "android"))]
mod epoll {
    use std::io;
    use std::os::fd::{BorrowedFd, OwnedFd};
    use std::time::Duration;

    use rustix::buffer::spare_capacity;
    use rustix::event::epoll::{self, CreateFlags, EventData, EventFlags};
    use rustix::event::{eventfd, EventfdFlags, Timespec};

    use super::Ready;

    /// The key of the notification `eventfd` (no source has it: keys are slab indices).
    const NOTIFY: u64 = u64::MAX;
    /// The most events taken from one wait.
    const MAX_EVENTS: usize = 256;

    /// `epoll` and its wake-up `eventfd`.
    pub(crate) struct Poller {
        epoll: OwnedFd,
        notifier: OwnedFd,
    }

    impl Poller {
        pub(crate) fn new() -> io::Result<Self> {
            let epoll = epoll::create(CreateFlags::CLOEXEC)?;
            let notifier = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
            epoll::add(
                &epoll,
                &notifier,
                EventData::new_u64(NOTIFY),
                EventFlags::IN | EventFlags::ET,
            )?;
            Ok(Self { epoll, notifier })
        }

        /// Watches `fd` for reading and writing, edge-triggered, under `key`.
        pub(crate) fn add(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
            let flags = EventFlags::IN | EventFlags::OUT | EventFlags::RDHUP | EventFlags::ET;
            Ok(epoll::add(
                &self.epoll,
                fd,
                EventData::new_u64(key as u64),
                flags,
            )?)
        }

        /// Stops watching `fd`.
        pub(crate) fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
            Ok(epoll::delete(&self.epoll, fd)?)
        }

        /// Changes what `fd` (added under `key`) is watched for; errors and hang-ups are
        /// always reported. The readiness it has now is reported at once, so no edge is
        /// lost when a watch is taken up again.
        pub(crate) fn set_interest(
            &self,
            fd: BorrowedFd<'_>,
            key: usize,
            read: bool,
            write: bool,
        ) -> io::Result<()> {
            let mut flags = EventFlags::ET;
            if read {
                flags |= EventFlags::IN | EventFlags::RDHUP;
            }
            if write {
                flags |= EventFlags::OUT;
            }
            Ok(epoll::modify(
                &self.epoll,
                fd,
                EventData::new_u64(key as u64),
                flags,
            )?)
        }

        /// Wakes the thread in [`Poller::wait`] (or makes its next wait return at once).
        pub(crate) fn notify(&self) -> io::Result<()> {
            match rustix::io::write(&self.notifier, &1u64.to_ne_bytes()) {
                // A full counter has a wake-up pending already.
                Ok(_) | Err(rustix::io::Errno::AGAIN) => Ok(()),
                Err(e) => Err(e.into()),
            }
        }

        /// Waits for readiness or a notification, at most `timeout`, and puts the sources'
        /// readiness in `ready` (emptied first).
        pub(crate) fn wait(
            &self,
            ready: &mut Vec<Ready>,
            events: &mut Vec<epoll::Event>,
            timeout: Option<Duration>,
        ) -> io::Result<()> {
            ready.clear();
            events.clear();
            events.reserve(MAX_EVENTS);
            // Whole milliseconds, rounded up: waking early would only wait again.
            let timeout = timeout.map(|t| {
                let ms = t.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i64;
                Timespec {
                    tv_sec: ms / 1000,
                    tv_nsec: (ms % 1000) * 1_000_000,
                }
            });
            epoll::wait(&self.epoll, spare_capacity(events), timeout.as_ref())?;
            for ev in events.iter() {
                let key = ev.data.u64();
                if key == NOTIFY {
                    continue;
                }
                let flags = ev.flags;
                let failed = flags.intersects(EventFlags::ERR | EventFlags::HUP);
                let hup = failed || flags.contains(EventFlags::RDHUP);
                ready.push(Ready {
                    key: key as usize,
                    readable: hup || flags.intersects(EventFlags::IN | EventFlags::PRI),
                    writable: failed || flags.contains(EventFlags::OUT),
                    hup,
                });
            }
            Ok(())
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod portable {
    use std::io;
    use std::os::fd::{AsRawFd, BorrowedFd};
    use std::time::Duration;

    use polling::{Event, Events, PollMode};

    use super::Ready;

    /// The `polling` crate's poller, edge-triggered.
    pub(crate) struct Poller(polling::Poller);

    impl Poller {
        pub(crate) fn new() -> io::Result<Self> {
            let poller = polling::Poller::new()?;
            if !poller.supports_edge() {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "this platform's poller has no edge-triggered mode",
                ));
            }
            Ok(Self(poller))
        }

        pub(crate) fn add(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
            // SAFETY: the reactor deletes every descriptor from the poller before the
            // source that owns it is dropped.
            #[allow(unsafe_code)]
            unsafe {
                self.0
                    .add_with_mode(fd.as_raw_fd(), Event::all(key), PollMode::Edge)
            }
        }

        pub(crate) fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
            self.0.delete(fd)
        }

        pub(crate) fn set_interest(
            &self,
            fd: BorrowedFd<'_>,
            key: usize,
            read: bool,
            write: bool,
        ) -> io::Result<()> {
            self.0
                .modify_with_mode(fd, Event::new(key, read, write), PollMode::Edge)
        }

        pub(crate) fn notify(&self) -> io::Result<()> {
            self.0.notify()
        }

        pub(crate) fn wait(
            &self,
            ready: &mut Vec<Ready>,
            events: &mut Events,
            timeout: Option<Duration>,
        ) -> io::Result<()> {
            ready.clear();
            events.clear();
            self.0.wait(events, timeout)?;
            ready.extend(events.iter().map(|ev| Ready {
                key: ev.key,
                readable: ev.readable,
                writable: ev.writable,
                // Without the hang-up flag, every read goes on until `WouldBlock`.
                hup: true,
            }));
            Ok(())
        }
    }
}

/// The event buffer a [`Poller`] waits with.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) type EventBuffer = Vec<rustix::event::epoll::Event>;
/// The event buffer a [`Poller`] waits with.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) type EventBuffer = polling::Events;
