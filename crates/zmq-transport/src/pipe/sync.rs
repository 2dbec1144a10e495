//! What the lock-free frame queue synchronises with: `std`'s types, or under the model
//! test (`--cfg loom`) loom's, which explore the interleavings of the threads using them.

#[cfg(all(loom, test))]
pub(super) use loom::cell::UnsafeCell;
#[cfg(all(loom, test))]
pub(super) use loom::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
#[cfg(all(loom, test))]
pub(super) use loom::sync::Arc;

#[cfg(not(all(loom, test)))]
pub(super) use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
#[cfg(not(all(loom, test)))]
pub(super) use std::sync::Arc;

/// `std`'s `UnsafeCell` with loom's interface: access through a pointer given to a closure.
#[cfg(not(all(loom, test)))]
#[derive(Debug)]
pub(super) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(all(loom, test)))]
impl<T> UnsafeCell<T> {
    pub(super) const fn new(value: T) -> Self {
        Self(std::cell::UnsafeCell::new(value))
    }

    #[inline(always)]
    pub(super) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    #[inline(always)]
    pub(super) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
