//! Message frames as the layers above pass them around.
//!
//! A message is one or more frames; every frame but the last has `more` set. Patterns
//! route frames, pipes queue them, engines encode them; all share this type so that a
//! frame's bytes are never copied between layers.

use bytes::Bytes;

/// One frame of a message: its bytes, and whether more frames of the same message follow.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Frame {
    /// The frame's bytes.
    pub data: Bytes,
    /// Whether more frames of the same message follow.
    pub more: bool,
}

impl Frame {
    /// A frame with these bytes.
    pub fn new(data: impl Into<Bytes>, more: bool) -> Self {
        Self {
            data: data.into(),
            more,
        }
    }

    /// The last (or only) frame of a message.
    pub fn last(data: impl Into<Bytes>) -> Self {
        Self::new(data, false)
    }

    /// A frame followed by more frames of the same message.
    pub fn more(data: impl Into<Bytes>) -> Self {
        Self::new(data, true)
    }

    /// The frame's length in bytes.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the frame has no bytes (such as the REQ/REP delimiter).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}
