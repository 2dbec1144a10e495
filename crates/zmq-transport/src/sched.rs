//! How the I/O threads are scheduled: libzmq's `ZMQ_THREAD_SCHED_POLICY` and
//! `ZMQ_THREAD_PRIORITY`, and this library's default, `SCHED_BATCH` for I/O threads that
//! would run under the normal policy (Linux).
//!
//! Why the default: an I/O thread is woken for nearly every burst of messages, and under
//! the normal policy the kernel lets a woken thread preempt the one running on its core.
//! A sending thread that shares its core with its I/O thread (as the scheduler often
//! places them on a busy machine) is then stopped after a message or two, each time, for
//! its I/O thread to write them, and both spend their time switching. Under `SCHED_BATCH`
//! a woken I/O thread runs when a core is free or at the next tick, never by preempting:
//! the sender goes on until it blocks or its time is up, and the I/O thread then takes all
//! it queued. The weight of the thread (its share of the processor) is the same.
//! Measured (PERFORMANCE.md, "The sixteenth pass"): a tcp stream of 1-byte messages whose
//! sending threads share a core ran at 10.1-10.5 M msg/s, 12.6-13.4 M this way; half a
//! DEALER round trip through the I/O threads of an idle machine took 40.5-41.8 us
//! (mean), 25.3-25.6 this way; on a machine whose cores were all busy, about the same
//! either way (a mean of 61 us against 56, 99% within 1.5 ms against 1.8). Set
//! `ZMQ_THREAD_SCHED_POLICY` to `SCHED_OTHER` (0) for libzmq's behaviour.

/// The scheduling asked for the I/O threads of a context.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IoScheduling {
    /// The policy, a `SCHED_*` value of `<sched.h>` (`ZMQ_THREAD_SCHED_POLICY`); `None`
    /// for the default: `SCHED_BATCH` if the thread would run under `SCHED_OTHER`, else
    /// the policy it inherits.
    pub policy: Option<i32>,
    /// The static priority, for the policies that have one (`SCHED_FIFO`, `SCHED_RR`;
    /// `ZMQ_THREAD_PRIORITY`); `None` keeps the inherited one.
    pub priority: Option<i32>,
}

/// `SCHED_OTHER`, the normal policy (0 on every system that has the option).
pub const SCHED_OTHER: i32 = 0;

/// `SCHED_BATCH` (Linux).
pub const SCHED_BATCH: i32 = 3;

impl IoScheduling {
    /// Applies this to the calling thread. A request the system refuses (a real-time
    /// policy without the privilege for it, a priority outside the policy's range) leaves
    /// the thread as it was, as does any request on a system without these policies.
    pub(crate) fn apply(self) {
        #[cfg(target_os = "linux")]
        self.apply_linux();
    }

    #[cfg(target_os = "linux")]
    fn apply_linux(self) {
        // SAFETY: plain system calls on the calling thread (pid 0); `param` is a valid
        // `sched_param` for their duration.
        #[allow(unsafe_code)]
        unsafe {
            let current = libc::sched_getscheduler(0);
            if current < 0 {
                return;
            }
            let mut param = libc::sched_param { sched_priority: 0 };
            if libc::sched_getparam(0, &mut param) != 0 {
                return;
            }
            let policy = match self.policy {
                Some(policy) => policy,
                None if current == libc::SCHED_OTHER => libc::SCHED_BATCH,
                None => current,
            };
            if let Some(priority) = self.priority {
                param.sched_priority = priority;
            }
            if policy != current || self.priority.is_some() {
                let _ = libc::sched_setscheduler(0, policy, &param);
            }
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The policy of a new thread that applied `sched`.
    fn policy_after(sched: IoScheduling) -> i32 {
        std::thread::spawn(move || {
            sched.apply();
            // SAFETY: a plain system call on the calling thread.
            #[allow(unsafe_code)]
            unsafe {
                libc::sched_getscheduler(0)
            }
        })
        .join()
        .expect("the thread ran")
    }

    #[test]
    fn the_default_batches_a_normal_thread_and_an_explicit_policy_is_kept() {
        // Test threads run under the normal policy (the test runner's own).
        assert_eq!(policy_after(IoScheduling::default()), libc::SCHED_BATCH);
        let normal = IoScheduling {
            policy: Some(SCHED_OTHER),
            priority: None,
        };
        assert_eq!(policy_after(normal), libc::SCHED_OTHER);
        let idle = IoScheduling {
            policy: Some(libc::SCHED_IDLE),
            priority: None,
        };
        assert_eq!(policy_after(idle), libc::SCHED_IDLE);
        // A priority that `SCHED_BATCH` does not take is refused: the thread stays under
        // the policy it inherited.
        let refused = IoScheduling {
            policy: Some(SCHED_BATCH),
            priority: Some(50),
        };
        assert_eq!(policy_after(refused), libc::SCHED_OTHER);
        assert_eq!(SCHED_BATCH, libc::SCHED_BATCH);
        assert_eq!(SCHED_OTHER, libc::SCHED_OTHER);
    }
}
