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
