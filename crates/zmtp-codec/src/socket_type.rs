//! Socket types: their `Socket-Type` names, libzmq's numeric values, and which peers each
//! accepts.
//!
//! The table follows RFC 23 ("Socket-Type" property), RFC 37 (the draft types) and libzmq's
//! `mechanism_t::check_socket_type`, which enforces it on ZMTP 3.x connections.

use core::fmt;

/// A ZeroMQ socket type.
///
/// The discriminants are libzmq's `ZMQ_*` constants, which ZMTP 2.0 also sends as the
/// socket-type byte of its greeting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum SocketType {
    /// `ZMQ_PAIR` (RFC 31).
    Pair = 0,
    /// `ZMQ_PUB` (RFC 29).
    Pub = 1,
    /// `ZMQ_SUB` (RFC 29).
    Sub = 2,
    /// `ZMQ_REQ` (RFC 28).
    Req = 3,
    /// `ZMQ_REP` (RFC 28).
    Rep = 4,
    /// `ZMQ_DEALER` (RFC 28).
    Dealer = 5,
    /// `ZMQ_ROUTER` (RFC 28).
    Router = 6,
    /// `ZMQ_PULL` (RFC 30).
    Pull = 7,
    /// `ZMQ_PUSH` (RFC 30).
    Push = 8,
    /// `ZMQ_XPUB` (RFC 29).
    XPub = 9,
    /// `ZMQ_XSUB` (RFC 29).
    XSub = 10,
    /// `ZMQ_STREAM`: raw TCP peers, no ZMTP.
    Stream = 11,
    /// `ZMQ_SERVER` (RFC 41, draft).
    Server = 12,
    /// `ZMQ_CLIENT` (RFC 41, draft).
    Client = 13,
    /// `ZMQ_RADIO` (RFC 48, draft).
    Radio = 14,
    /// `ZMQ_DISH` (RFC 48, draft).
    Dish = 15,
    /// `ZMQ_GATHER` (RFC 49, draft).
    Gather = 16,
    /// `ZMQ_SCATTER` (RFC 49, draft).
    Scatter = 17,
    /// `ZMQ_DGRAM` (draft, UDP only).
    Dgram = 18,
    /// `ZMQ_PEER` (RFC 51, draft).
    Peer = 19,
    /// `ZMQ_CHANNEL` (RFC 52, draft).
    Channel = 20,
}

impl SocketType {
    /// Every socket type, in numeric order.
    pub const ALL: [Self; 21] = [
        Self::Pair,
        Self::Pub,
        Self::Sub,
        Self::Req,
        Self::Rep,
        Self::Dealer,
        Self::Router,
        Self::Pull,
        Self::Push,
        Self::XPub,
        Self::XSub,
        Self::Stream,
        Self::Server,
        Self::Client,
        Self::Radio,
        Self::Dish,
        Self::Gather,
        Self::Scatter,
        Self::Dgram,
        Self::Peer,
        Self::Channel,
    ];

    /// The `Socket-Type` property value, as libzmq sends it (upper case).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Pair => "PAIR",
            Self::Pub => "PUB",
            Self::Sub => "SUB",
            Self::Req => "REQ",
            Self::Rep => "REP",
            Self::Dealer => "DEALER",
            Self::Router => "ROUTER",
            Self::Pull => "PULL",
            Self::Push => "PUSH",
            Self::XPub => "XPUB",
            Self::XSub => "XSUB",
            Self::Stream => "STREAM",
            Self::Server => "SERVER",
            Self::Client => "CLIENT",
            Self::Radio => "RADIO",
            Self::Dish => "DISH",
            Self::Gather => "GATHER",
            Self::Scatter => "SCATTER",
            Self::Dgram => "DGRAM",
            Self::Peer => "PEER",
            Self::Channel => "CHANNEL",
        }
    }

    /// The type whose `Socket-Type` name is exactly `name`.
    ///
    /// The match is case-sensitive, as in libzmq: a peer announcing `dealer` is not a
    /// DEALER. Use [`SocketType::from_name_ignore_case`] for names typed by people.
    pub fn from_name(name: &[u8]) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name().as_bytes() == name)
    }

    /// The type whose name matches `name` in any case (`req`, `Req`, `REQ`).
    pub fn from_name_ignore_case(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name))
    }

    /// The type with libzmq's numeric value `value` (`ZMQ_PAIR` = 0 ... `ZMQ_CHANNEL` = 20).
    pub const fn from_u8(value: u8) -> Option<Self> {
        if (value as usize) < Self::ALL.len() {
            Some(Self::ALL[value as usize])
        } else {
            None
        }
    }

    /// libzmq's numeric value of this type.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// Whether a socket of this type may talk to a peer of type `peer` over ZMTP.
    ///
    /// STREAM speaks raw TCP and accepts no ZMTP peer. The relation is symmetric.
    pub const fn accepts(self, peer: Self) -> bool {
        use SocketType::*;
        matches!(
            (self, peer),
            (Pair, Pair)
                | (Pub, Sub | XSub)
                | (Sub, Pub | XPub)
                | (XPub, Sub | XSub)
                | (XSub, Pub | XPub)
                | (Req, Rep | Router)
                | (Rep, Req | Dealer)
                | (Dealer, Rep | Dealer | Router)
                | (Router, Req | Dealer | Router)
                | (Push, Pull)
                | (Pull, Push)
                | (Server, Client)
                | (Client, Server)
                | (Radio, Dish)
                | (Dish, Radio)
                | (Gather, Scatter)
                | (Scatter, Gather)
                | (Dgram, Dgram)
                | (Peer, Peer)
                | (Channel, Channel)
        )
    }

    /// Whether this type sends the `Identity` property in its READY (libzmq sends it only
    /// for REQ, DEALER and ROUTER).
    pub const fn sends_identity(self) -> bool {
        matches!(self, Self::Req | Self::Dealer | Self::Router)
    }

    /// Whether this type sends subscriptions to its peers (SUB and XSUB, RFC 29): one-frame
    /// messages starting with 1 (subscribe) or 0 (cancel), which travel as SUBSCRIBE and
    /// CANCEL commands to ZMTP 3.1 peers.
    pub const fn sends_subscriptions(self) -> bool {
        matches!(self, Self::Sub | Self::XSub)
    }

    /// Whether this is one of the thread-safe draft types, which send and accept only
    /// single-part messages (RFC 37).
    pub const fn is_thread_safe(self) -> bool {
        matches!(
            self,
            Self::Server
                | Self::Client
                | Self::Radio
                | Self::Dish
                | Self::Gather
                | Self::Scatter
                | Self::Peer
                | Self::Channel
        )
    }
}

impl fmt::Display for SocketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_values_match_libzmq() {
        for (i, t) in SocketType::ALL.iter().enumerate() {
            assert_eq!(t.as_u8() as usize, i);
            assert_eq!(SocketType::from_u8(i as u8), Some(*t));
        }
        assert_eq!(SocketType::from_u8(21), None);
        assert_eq!(SocketType::Dealer.as_u8(), 5);
        assert_eq!(SocketType::Channel.as_u8(), 20);
    }

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for t in SocketType::ALL {
            assert_eq!(SocketType::from_name(t.name().as_bytes()), Some(t));
        }
        assert_eq!(SocketType::from_name(b"dealer"), None);
        assert_eq!(SocketType::from_name(b""), None);
        assert_eq!(
            SocketType::from_name_ignore_case("dealer"),
            Some(SocketType::Dealer)
        );
    }

    #[test]
    fn subscribers() {
        let subscribers: alloc::vec::Vec<SocketType> = SocketType::ALL
            .into_iter()
            .filter(|t| t.sends_subscriptions())
            .collect();
        assert_eq!(subscribers, [SocketType::Sub, SocketType::XSub]);
    }

    #[test]
    fn compatibility_is_symmetric() {
        for a in SocketType::ALL {
            for b in SocketType::ALL {
                assert_eq!(a.accepts(b), b.accepts(a), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn compatibility_table_matches_libzmq() {
        use SocketType::*;
        let peers = |t: SocketType| -> alloc::vec::Vec<SocketType> {
            SocketType::ALL
                .into_iter()
                .filter(|p| t.accepts(*p))
                .collect()
        };
        assert_eq!(peers(Req), [Rep, Router]);
        assert_eq!(peers(Rep), [Req, Dealer]);
        assert_eq!(peers(Dealer), [Rep, Dealer, Router]);
        assert_eq!(peers(Router), [Req, Dealer, Router]);
        assert_eq!(peers(Pub), [Sub, XSub]);
        assert_eq!(peers(XSub), [Pub, XPub]);
        assert_eq!(peers(Push), [Pull]);
        assert_eq!(peers(Pair), [Pair]);
        assert_eq!(peers(Stream), []);
        assert_eq!(peers(Scatter), [Gather]);
    }
}
