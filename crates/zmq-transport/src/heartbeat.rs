//! ZMTP heartbeats (RFC 37 PING and PONG), as libzmq's `stream_engine_base.cpp` and
//! `zmtp_engine.cpp` run them, kept as data: the engine passes the time in, asks for the
//! next deadline, and the reactor owns the one timer behind it.
//!
//! - With `ZMQ_HEARTBEAT_IVL` set, a PING (carrying `ZMQ_HEARTBEAT_TTL` in deciseconds and
//!   no context) is due every interval once the handshake is done, traffic or not.
//! - When a PING is due and no timeout runs, a timeout of `ZMQ_HEARTBEAT_TIMEOUT` starts.
//! - A PING from the peer with a TTL above 0 starts a timer of TTL × 100 ms, if none runs.
//! - Any frame decoded from the peer cancels both the timeout and the TTL timer.
//! - Either running out ends the connection ([`Expiry`]).
//!
//! Only ZMTP 3.x connections have heartbeats (ZMTP 1.0 and 2.0 have no commands); libzmq
//! also sends PING to ZMTP 3.0 peers, and so do we.

use std::time::{Duration, Instant};

use bytes::Bytes;
use zmtp_codec::Command;

/// What our side sends, from the socket's options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PingSettings {
    /// `ZMQ_HEARTBEAT_IVL`.
    pub(crate) ivl: Duration,
    /// `ZMQ_HEARTBEAT_TIMEOUT`, resolved (-1 is the interval); `None` for none.
    pub(crate) timeout: Option<Duration>,
    /// `ZMQ_HEARTBEAT_TTL`, in deciseconds, as our PINGs carry it.
    pub(crate) ttl: u16,
}

/// Which heartbeat timer ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// Nothing came from the peer within `ZMQ_HEARTBEAT_TIMEOUT` of our PING.
    NoReply,
    /// Nothing came from the peer within the TTL of its own last PING.
    PeerTtl,
}

/// One connection's heartbeat state.
#[derive(Debug)]
pub(crate) struct Heartbeat {
    settings: Option<PingSettings>,
    /// When the next PING is due (with `settings`).
    next_ping: Option<Instant>,
    /// A PING is due and not yet queued: only one waits at a time, however long the
    /// stream stays unwritable.
    ping_pending: bool,
    /// The timeout started by our PING.
    timeout_at: Option<Instant>,
    /// The timer started by the peer's PING's TTL.
    ttl_at: Option<Instant>,
}

impl Heartbeat {
    /// A connection whose handshake completed at `now`.
    pub(crate) fn new(settings: Option<PingSettings>, now: Instant) -> Self {
        Self {
            next_ping: settings.map(|s| now + s.ivl),
            settings,
            ping_pending: false,
            timeout_at: None,
            ttl_at: None,
        }
    }

    /// A frame came from the peer: it is alive.
    #[inline]
    pub(crate) fn on_frame(&mut self) {
        self.timeout_at = None;
        self.ttl_at = None;
    }

    /// The peer sent PING with `ttl` (deciseconds). `listening`: we read from the peer
    /// (not stopped by a full inbound queue), so its silence would mean something.
    pub(crate) fn on_ping(&mut self, ttl: u16, now: Instant, listening: bool) {
        if ttl > 0 && self.ttl_at.is_none() && listening {
            // libzmq computes this in 16 bits and wraps above 6553 ms; we do not.
            self.ttl_at = Some(now + Duration::from_millis(u64::from(ttl) * 100));
        }
    }

    /// We stopped reading from the peer (the socket's queue is full): its silence is ours,
    /// so no timer may judge it until we read again.
    pub(crate) fn on_input_stopped(&mut self) {
        self.on_frame();
    }

    /// Checks the timers at `now`: a PING that fell due is marked pending (and starts the
    /// timeout, if none runs and we are `listening`); a timer that ran out is returned.
    pub(crate) fn on_time(&mut self, now: Instant, listening: bool) -> Result<(), Expiry> {
        if self.timeout_at.is_some_and(|at| at <= now) {
            return Err(Expiry::NoReply);
        }
        if self.ttl_at.is_some_and(|at| at <= now) {
            return Err(Expiry::PeerTtl);
        }
        if let (Some(s), Some(at)) = (self.settings, self.next_ping) {
            if at <= now {
                self.ping_pending = true;
                // The next one is due an interval after this one, however late this was.
                let mut next = at + s.ivl;
                if next <= now {
                    next = now + s.ivl;
                }
                self.next_ping = Some(next);
                if self.timeout_at.is_none() && listening {
                    self.timeout_at = s.timeout.map(|t| now + t);
                }
            }
        }
        Ok(())
    }

    /// The PING to send now, if one is due; it is then no longer pending.
    /// Whether a PING waits to be sent ([`Heartbeat::take_ping`]).
    pub(crate) fn ping_pending(&self) -> bool {
        self.ping_pending
    }

    pub(crate) fn take_ping(&mut self) -> Option<Command> {
        if !std::mem::take(&mut self.ping_pending) {
            return None;
        }
        let ttl = self.settings.map_or(0, |s| s.ttl);
        Some(Command::Ping {
            ttl,
            context: Bytes::new(),
        })
    }

    /// The earliest time [`Heartbeat::on_time`] has something to do.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        [self.next_ping, self.timeout_at, self.ttl_at]
            .into_iter()
            .flatten()
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn settings(ivl: u64, timeout: Option<u64>, ttl: u16) -> Option<PingSettings> {
        Some(PingSettings {
            ivl: ms(ivl),
            timeout: timeout.map(ms),
            ttl,
        })
    }

    #[test]
    fn a_ping_is_due_every_interval_whatever_the_traffic() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(settings(100, None, 25), t0);
        assert_eq!(hb.deadline(), Some(t0 + ms(100)));
        assert_eq!(hb.on_time(t0 + ms(99), true), Ok(()));
        assert_eq!(hb.take_ping(), None);
        for tick in 1..=5u64 {
            // Traffic in between changes nothing.
            hb.on_frame();
            let now = t0 + ms(100 * tick);
            assert_eq!(hb.on_time(now, true), Ok(()));
            assert_eq!(
                hb.take_ping(),
                Some(Command::Ping {
                    ttl: 25,
                    context: Bytes::new()
                })
            );
            assert_eq!(hb.take_ping(), None, "one PING per interval");
            assert_eq!(hb.deadline(), Some(now + ms(100)));
        }
    }

    #[test]
    fn only_one_ping_waits_while_the_stream_is_unwritable() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(settings(10, None, 0), t0);
        for n in 1..=10 {
            hb.on_time(t0 + ms(10 * n), true).unwrap();
        }
        assert!(hb.take_ping().is_some());
        assert!(hb.take_ping().is_none());
    }

    #[test]
    fn silence_after_a_ping_times_out_and_traffic_cancels_it() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(settings(100, Some(250), 0), t0);
        hb.on_time(t0 + ms(100), true).unwrap();
        assert_eq!(
            hb.deadline(),
            Some(t0 + ms(200)),
            "the next PING comes first"
        );
        // A second PING does not restart the running timeout.
        hb.on_time(t0 + ms(200), true).unwrap();
        hb.on_time(t0 + ms(300), true).unwrap();
        assert_eq!(hb.on_time(t0 + ms(350), true), Err(Expiry::NoReply));

        let mut hb = Heartbeat::new(settings(100, Some(250), 0), t0);
        hb.on_time(t0 + ms(100), true).unwrap();
        hb.on_frame();
        // Checked late (at 350), the PING due at 200 goes now and starts a new timeout.
        assert_eq!(
            hb.on_time(t0 + ms(350), true),
            Ok(()),
            "a frame came in time"
        );
        assert_eq!(hb.on_time(t0 + ms(599), true), Ok(()));
        assert_eq!(hb.on_time(t0 + ms(600), true), Err(Expiry::NoReply));
    }

    #[test]
    fn no_timeout_without_one_or_while_not_listening() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(settings(100, None, 0), t0);
        for n in 1..50 {
            assert_eq!(hb.on_time(t0 + ms(100 * n), true), Ok(()));
        }
        let mut hb = Heartbeat::new(settings(100, Some(100), 0), t0);
        hb.on_time(t0 + ms(100), false).unwrap();
        assert_eq!(hb.on_time(t0 + ms(199), true), Ok(()));
        // A timeout running when input stops is cancelled.
        hb.on_time(t0 + ms(200), true).unwrap();
        hb.on_input_stopped();
        assert_eq!(hb.on_time(t0 + ms(299), false), Ok(()));
    }

    #[test]
    fn the_peers_ttl_runs_from_its_first_ping_until_any_frame() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(None, t0);
        assert_eq!(hb.deadline(), None, "no PING of ours without an interval");
        hb.on_ping(0, t0, true);
        assert_eq!(hb.deadline(), None, "TTL 0: no timer");
        hb.on_ping(3, t0, true);
        hb.on_ping(3, t0 + ms(200), true);
        assert_eq!(
            hb.deadline(),
            Some(t0 + ms(300)),
            "a running TTL timer is kept"
        );
        hb.on_frame();
        assert_eq!(hb.deadline(), None);
        hb.on_ping(3, t0 + ms(400), true);
        assert_eq!(hb.on_time(t0 + ms(699), true), Ok(()));
        assert_eq!(hb.on_time(t0 + ms(700), true), Err(Expiry::PeerTtl));
        // The largest TTL does not wrap (libzmq's 16-bit product would).
        let mut hb = Heartbeat::new(None, t0);
        hb.on_ping(u16::MAX, t0, true);
        assert_eq!(hb.deadline(), Some(t0 + ms(6_553_500)));
    }
}
