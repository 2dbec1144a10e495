//! `poll` over sockets and plain file descriptors, as in the `zmq` crate.

use std::marker::PhantomData;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use zmq_transport::net::{self, PollFd};

use crate::error::{Error, Result};
use crate::socket::Socket;

bitflags::bitflags! {
    /// Events to wait for, or that happened.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct PollEvents: i16 {
        /// A message can be received (a descriptor is readable).
        const POLLIN = 1;
        /// A message can be sent (a descriptor is writable).
        const POLLOUT = 2;
        /// An error condition (descriptors only).
        const POLLERR = 4;
    }
}

/// One socket or descriptor for [`poll`], with the events wanted and those found.
pub struct PollItem<'a> {
    socket: Option<&'a Socket>,
    fd: RawFd,
    events: PollEvents,
    revents: PollEvents,
    marker: PhantomData<&'a Socket>,
}

impl<'a> PollItem<'a> {
    pub(crate) fn from_socket(socket: &'a Socket, events: PollEvents) -> Self {
        Self {
            socket: Some(socket),
            fd: -1,
            events,
            revents: PollEvents::empty(),
            marker: PhantomData,
        }
    }

    /// An item for a plain file descriptor.
    pub fn from_fd(fd: RawFd, events: PollEvents) -> Self {
        Self {
            socket: None,
            fd,
            events,
            revents: PollEvents::empty(),
            marker: PhantomData,
        }
    }

    /// Changes the events wanted.
    pub fn set_events(&mut self, events: PollEvents) {
        self.events = events;
    }

    /// The events found by the last `poll`.
    pub fn get_revents(&self) -> PollEvents {
        self.revents
    }

    /// Whether the last `poll` found it readable.
    pub fn is_readable(&self) -> bool {
        self.revents.contains(PollEvents::POLLIN)
    }

    /// Whether the last `poll` found it writable.
    pub fn is_writable(&self) -> bool {
        self.revents.contains(PollEvents::POLLOUT)
    }

    /// Whether the last `poll` found an error.
    pub fn is_error(&self) -> bool {
        self.revents.contains(PollEvents::POLLERR)
    }

    /// Whether this item is for `socket`.
    pub fn has_socket(&self, socket: &Socket) -> bool {
        self.socket.is_some_and(|s| std::ptr::eq(s, socket))
    }

    /// Whether this item is for descriptor `fd`.
    pub fn has_fd(&self, fd: RawFd) -> bool {
        self.socket.is_none() && self.fd == fd
    }
}

/// Waits until one of `items` has one of its events, or `timeout` ms pass (-1: no
/// limit; 0: just check). Returns how many items have events; each item's
/// [`get_revents`](PollItem::get_revents) says which.
pub fn poll(items: &mut [PollItem<'_>], timeout: i64) -> Result<i32> {
    let deadline = (timeout >= 0).then(|| Instant::now() + Duration::from_millis(timeout as u64));
    loop {
        let mut fds = Vec::with_capacity(items.len());
        let mut ready = 0;
        for item in items.iter_mut() {
            item.revents = PollEvents::empty();
            match item.socket {
                Some(socket) => {
                    let (fd, events) = socket.wait_state(item.events)?;
                    item.revents = events & item.events;
                    fds.push(PollFd {
                        fd,
                        events: net::POLLIN,
                        revents: 0,
                    });
                }
                None => fds.push(PollFd {
                    fd: item.fd,
                    events: to_os(item.events),
                    revents: 0,
                }),
            }
            if !item.revents.is_empty() {
                ready += 1;
            }
        }
        // Descriptors are checked without waiting when a socket is ready already.
        let wait = if ready > 0 {
            Some(Duration::ZERO)
        } else {
            deadline.map(|d| d.saturating_duration_since(Instant::now()))
        };
        if wait != Some(Duration::ZERO) {
            // The bodies received and held back are not kept while the thread sleeps.
            zmq_transport::recycle::release_now();
        }
        net::poll_fds(&mut fds, wait).map_err(|e| Error::from_io(&e, Error::EINVAL))?;
        for (item, fd) in items.iter_mut().zip(&fds) {
            if item.socket.is_none() {
                item.revents = from_os(fd.revents) & (item.events | PollEvents::POLLERR);
                if !item.revents.is_empty() {
                    ready += 1;
                }
            }
        }
        if ready > 0 || deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(ready);
        }
        // A socket's descriptor signalled: look at the sockets again.
    }
}

fn to_os(events: PollEvents) -> i16 {
    let mut os = 0;
    if events.contains(PollEvents::POLLIN) {
        os |= net::POLLIN;
    }
    if events.contains(PollEvents::POLLOUT) {
        os |= net::POLLOUT;
    }
    os
}

fn from_os(revents: i16) -> PollEvents {
    let mut events = PollEvents::empty();
    events.set(
        PollEvents::POLLIN,
        revents & (net::POLLIN | net::POLLHUP) != 0,
    );
    events.set(PollEvents::POLLOUT, revents & net::POLLOUT != 0);
    events.set(PollEvents::POLLERR, revents & net::POLLERR != 0);
    events
}
