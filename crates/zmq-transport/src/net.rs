//! Network interface lookups for endpoints that name an interface.

use std::net::IpAddr;

/// The index of the interface named `name` (for IPv6 scope ids), if it exists.
pub fn interface_index(name: &str) -> Option<u32> {
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return None;
    }
    // Linux publishes each interface's index in sysfs; this needs no FFI.
    let path = format!("/sys/class/net/{name}/ifindex");
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The addresses of the interface named `name`, IPv4 first.
pub fn interface_addresses(name: &str) -> Vec<IpAddr> {
    let mut addrs: Vec<IpAddr> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .filter(|i| i.name == name)
        .map(|i| i.ip())
        .collect();
    addrs.sort_by_key(|a| !a.is_ipv4());
    addrs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback() {
        assert_eq!(interface_index("lo"), Some(1));
        assert!(interface_addresses("lo").contains(&IpAddr::from([127, 0, 0, 1])));
        assert_eq!(interface_index("no-such-if0"), None);
        assert_eq!(interface_index("../../etc"), None);
        assert!(interface_addresses("no-such-if0").is_empty());
    }
}

/// One descriptor for [`poll_fds`]: the events asked for, and those found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PollFd {
    /// The descriptor.
    pub fd: std::os::fd::RawFd,
    /// `POLLIN`/`POLLOUT` bits wanted (see [`POLLIN`], [`POLLOUT`]).
    pub events: i16,
    /// The bits found, set by [`poll_fds`] (also `POLLERR`, `POLLHUP`).
    pub revents: i16,
}

/// Readable (the OS's `POLLIN`).
pub const POLLIN: i16 = libc::POLLIN;
/// Writable (the OS's `POLLOUT`).
pub const POLLOUT: i16 = libc::POLLOUT;
/// An error condition (the OS's `POLLERR`).
pub const POLLERR: i16 = libc::POLLERR;
/// Hung up (the OS's `POLLHUP`).
pub const POLLHUP: i16 = libc::POLLHUP;

/// Waits until one of `fds` is ready, or `timeout` passes (`None`: no limit). Returns how
/// many are ready. An interrupted wait returns `Ok(0)`.
pub fn poll_fds(
    fds: &mut [PollFd],
    timeout: Option<std::time::Duration>,
) -> std::io::Result<usize> {
    let mut raw: Vec<libc::pollfd> = fds
        .iter()
        .map(|p| libc::pollfd {
            fd: p.fd,
            events: p.events,
            revents: 0,
        })
        .collect();
    let ms = timeout.map_or(-1, |t| {
        // Round up, so a short wait is not a busy loop.
        let ms = t.as_nanos().div_ceil(1_000_000);
        i32::try_from(ms).unwrap_or(i32::MAX)
    });
    // SAFETY: `raw` is a valid, exclusively borrowed array of `raw.len()` pollfd structs
    // for the duration of the call.
    #[allow(unsafe_code)]
    let n = unsafe { libc::poll(raw.as_mut_ptr(), raw.len() as libc::nfds_t, ms) };
    if n < 0 {
        let e = std::io::Error::last_os_error();
        return if e.kind() == std::io::ErrorKind::Interrupted {
            Ok(0)
        } else {
            Err(e)
        };
    }
    for (p, r) in fds.iter_mut().zip(&raw) {
        p.revents = r.revents;
    }
    Ok(n as usize)
}
