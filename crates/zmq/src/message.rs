//! `Message`, one frame of a ZeroMQ message, as in the `zmq` crate.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::str;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use zmtp_codec::{Frame, Metadata, Payload};

/// One frame of a ZeroMQ message, either received or built to be sent.
///
/// A multipart message is several `Message`s; [`get_more`](Self::get_more) says whether
/// more parts follow a received one. The content derefs to `[u8]`.
///
/// The bytes are shared, not copied: a received frame is a slice of the buffer it was read
/// into, and `From<Vec<u8>>`, `From<Box<[u8]>>` and `From<Bytes>` take the buffer over.
/// Mutable access ([`DerefMut`], [`AsMut`]) first makes the buffer the message's own:
/// without a copy if nothing else shares it, with one copy if something does. Cloning
/// shares the buffer (or copies it, if it is being mutated). The exception is a small
/// message, received or copied from a slice: up to 31 bytes are held inside the message
/// itself (as libzmq's up to 33), and copied with it.
#[derive(Clone, Default)]
pub struct Message {
    data: Data,
    more: bool,
    metadata: Option<Arc<Metadata>>,
}

/// The content: shared and read-only until someone wants to write to it.
#[derive(Clone)]
enum Data {
    Shared(Payload),
    Unique(BytesMut),
}

impl Default for Data {
    fn default() -> Self {
        Self::Shared(Payload::new())
    }
}

impl Message {
    /// An empty message.
    pub fn new() -> Self {
        Self::default()
    }

    /// A message of `len` zero bytes.
    pub fn with_size(len: usize) -> Self {
        Self::from_data(Data::Unique(BytesMut::zeroed(len)))
    }

    /// A message of `len` zero bytes.
    #[deprecated(
        since = "0.9.1",
        note = "This method has a name which does not match its semantics. Use `with_size` instead"
    )]
    pub fn with_capacity(len: usize) -> Self {
        Self::with_size(len)
    }

    /// A message of `len` bytes.
    ///
    /// The `zmq` crate's is `unsafe` and leaves the bytes uninitialized; this one is safe
    /// and zeroes them, so calls in an `unsafe` block still compile.
    #[deprecated(
        since = "0.9.1",
        note = "This method has an unintuitive name, and should not be needed."
    )]
    pub fn with_capacity_unallocated(len: usize) -> Self {
        Self::with_size(len)
    }

    /// A message holding a copy of `data`; the same as `From<&[u8]>`.
    #[deprecated(since = "0.9.1", note = "Use the `From` trait instead.")]
    pub fn from_slice(data: &[u8]) -> Self {
        Self::from(data)
    }

    /// The content as a string slice, if it is valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        str::from_utf8(self).ok()
    }

    /// Whether more parts of the same multipart message follow this one (`ZMQ_MORE`).
    pub fn get_more(&self) -> bool {
        self.more
    }

    /// A metadata property of the connection the message came in on (`zmq_msg_gets`).
    ///
    /// The properties are those the peer sent in its handshake (`Socket-Type`, `Identity`,
    /// and any `X-` application property) and those of the connection (`Peer-Address`,
    /// and `User-Id` when authentication set one). `Identity` and `Routing-Id` name the
    /// same property. A message that was not received has no metadata.
    ///
    /// Unlike libzmq's lookup, this one ignores ASCII case, as ZMTP property names are
    /// case-insensitive (RFC 37). A value that is not UTF-8 gives `None`, as in the `zmq`
    /// crate. `&mut self` is only for the `zmq` crate's signature; nothing changes.
    pub fn gets<'a>(&'a mut self, property: &str) -> Option<&'a str> {
        let metadata = self.metadata.as_deref()?;
        let alias = if property.eq_ignore_ascii_case("Identity") {
            Some("Routing-Id")
        } else if property.eq_ignore_ascii_case("Routing-Id") {
            Some("Identity")
        } else {
            None
        };
        let value = metadata
            .get(property)
            .or_else(|| alias.and_then(|alias| metadata.get(alias)))?;
        str::from_utf8(value).ok()
    }

    /// A received frame as a message, sharing its bytes, with its connection's metadata.
    #[cfg(test)]
    pub(crate) fn from_frame(frame: Frame, metadata: Option<Arc<Metadata>>) -> Self {
        let mut message = Self::new();
        message.set_received(frame, metadata.as_ref());
        message
    }

    /// Replaces the content with a received frame (sharing its bytes) and its
    /// connection's metadata. The metadata is kept, not cloned again, when it is the one
    /// the message holds already (a message reused for a stream from one connection):
    /// two atomic operations a message fewer.
    ///
    /// The body it held before goes to [`zmq_transport::recycle::release`]: dropped with
    /// others, not at each message of a stream.
    pub(crate) fn set_received(&mut self, frame: Frame, metadata: Option<&Arc<Metadata>>) {
        if let Data::Shared(old) = std::mem::replace(&mut self.data, Data::Shared(frame.data)) {
            zmq_transport::recycle::release(old);
        }
        self.more = frame.more;
        let same = match (&self.metadata, metadata) {
            (Some(held), Some(new)) => Arc::ptr_eq(held, new),
            (None, None) => true,
            _ => false,
        };
        if !same {
            self.metadata = metadata.cloned();
        }
    }

    /// The content, without a copy.
    pub(crate) fn into_payload(self) -> Payload {
        match self.data {
            Data::Shared(payload) => payload,
            Data::Unique(bytes) => bytes.into(),
        }
    }

    fn from_data(data: Data) -> Self {
        Self {
            data,
            more: false,
            metadata: None,
        }
    }
}

impl Deref for Message {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.data {
            Data::Shared(payload) => payload,
            Data::Unique(bytes) => bytes,
        }
    }
}

impl DerefMut for Message {
    /// The content, mutable. The first call makes the buffer the message's own: without a
    /// copy if nothing else shares it, else by copying it once.
    fn deref_mut(&mut self) -> &mut [u8] {
        // Inline bytes are the message's own already.
        if let Data::Shared(payload) = &mut self.data {
            if !payload.is_inline() {
                let bytes = std::mem::take(payload).into_bytes();
                let unique = bytes
                    .try_into_mut()
                    .unwrap_or_else(|shared| BytesMut::from(&shared[..]));
                self.data = Data::Unique(unique);
            }
        }
        match &mut self.data {
            Data::Unique(bytes) => bytes,
            Data::Shared(payload) => payload.inline_mut().unwrap_or_default(),
        }
    }
}

impl AsRef<[u8]> for Message {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl AsMut<[u8]> for Message {
    fn as_mut(&mut self) -> &mut [u8] {
        self
    }
}

impl PartialEq for Message {
    /// Messages are equal if their contents are; the `more` flag and metadata do not count.
    fn eq(&self, other: &Self) -> bool {
        self[..] == other[..]
    }
}

impl Eq for Message {}

impl fmt::Debug for Message {
    /// The content, as a byte slice (`[104, 105]`), as in the `zmq` crate.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self[..], f)
    }
}

impl From<&[u8]> for Message {
    /// A message holding a copy of the bytes.
    fn from(data: &[u8]) -> Self {
        Self::from_data(Data::Shared(copy_bytes(data)))
    }
}

/// Copies of at most this many bytes share a chunk instead of taking an allocation each
/// (libzmq keeps messages up to 33 bytes inside the message itself, its "VSM"). Up to
/// 8 KiB: above 1 KiB, an allocation per message freed by another thread (an inproc peer,
/// the I/O thread) met glibc's arena lock on both sides, and inproc 2-8 KiB streams ran
/// at 0.4x-0.9x libzmq (2.3x-1.1x with chunks).
const SMALL_COPY_MAX: usize = 8 * 1024;

/// The size of the chunks small copies are cut from.
const SMALL_COPY_CHUNK: usize = 64 * 1024;

/// How many chunks a thread keeps after moving on from them, to reuse once every copy cut
/// from them is gone (256 KiB).
const SMALL_COPY_KEPT: usize = 4;

/// A thread's chunks for small copies.
struct SmallCopies {
    /// The rest of the current chunk.
    chunk: BytesMut,
    /// `chunk` is part of a chunk (not the empty one a thread starts with).
    in_chunk: bool,
    /// Chunks moved on from.
    kept: zmq_transport::recycle::Chunks,
}

impl SmallCopies {
    /// Moves on to a chunk moved on from before, or to this one again, if every copy cut
    /// from it is gone; else to a new one.
    #[cold]
    fn next_chunk(&mut self) {
        let full = std::mem::take(&mut self.chunk);
        if self.in_chunk {
            self.kept.give_up(full);
        }
        self.chunk = self.kept.take(SMALL_COPY_CHUNK);
        self.in_chunk = true;
    }
}

std::thread_local! {
    static SMALL_COPIES: std::cell::RefCell<SmallCopies> =
        std::cell::RefCell::new(SmallCopies {
            chunk: BytesMut::new(),
            in_chunk: false,
            kept: zmq_transport::recycle::Chunks::new(SMALL_COPY_KEPT),
        });
}

/// A copy of `data`. A very small one is held inline ([`Payload`]); a small one is cut
/// from a chunk shared with the thread's other small copies: a reference count instead of
/// an allocation and a free per message (a free made on the I/O thread, for a message sent
/// over tcp or ipc). A chunk is freed, or reused, once every copy cut from it is gone; so a
/// small message kept for long keeps its chunk (at most [`SMALL_COPY_CHUNK`] bytes) alive,
/// as a received frame keeps the buffer it was read into. Chunks are reused
/// ([`zmq_transport::recycle::Chunks`]) rather than each a new allocation whose pages fault
/// in (a tcp 4 KiB sender's page faults fell by about 40%). A larger one takes a recycled
/// buffer ([`zmq_transport::recycle`]).
#[inline]
pub(crate) fn copy_bytes(data: &[u8]) -> Payload {
    match Payload::inline(data) {
        Some(inline) => inline,
        None => copy_to_buffer(data),
    }
}

/// [`copy_bytes`] for a payload too long to be inline: out of line, so that the inline
/// case, the most common, does not pay for this one's set-up (14 instructions a 1-byte
/// send, callgrind).
#[inline(never)]
fn copy_to_buffer(data: &[u8]) -> Payload {
    if data.len() > SMALL_COPY_MAX {
        // A large copy goes into a recycled buffer, returned when the message is dropped
        // (after the I/O thread wrote it, or when an inproc peer is done with it).
        return Payload::from(zmq_transport::recycle::copy(data));
    }
    SMALL_COPIES
        .try_with(|copies| {
            let copies = &mut *copies.borrow_mut();
            if copies.chunk.capacity() < data.len() {
                copies.next_chunk();
            }
            zmtp_codec::copy::put(&mut copies.chunk, data);
            Payload::from(copies.chunk.split())
        })
        // During the thread's teardown: an allocation of its own.
        .unwrap_or_else(|_| Payload::copy_from_slice(data))
}

impl From<Vec<u8>> for Message {
    /// A message that takes the vector's buffer over, without a copy.
    fn from(data: Vec<u8>) -> Self {
        Self::from(Bytes::from(data))
    }
}

impl From<Box<[u8]>> for Message {
    /// A message that takes the box's buffer over, without a copy.
    fn from(data: Box<[u8]>) -> Self {
        Self::from(Bytes::from(data))
    }
}

impl From<&str> for Message {
    /// A message holding a copy of the string's UTF-8 bytes.
    fn from(data: &str) -> Self {
        Self::from(data.as_bytes())
    }
}

impl From<&String> for Message {
    /// A message holding a copy of the string's UTF-8 bytes.
    fn from(data: &String) -> Self {
        Self::from(data.as_bytes())
    }
}

impl<T> From<&T> for Message
where
    T: Into<Self> + Clone,
{
    /// The message of a clone of `data` (for `Message` and `Bytes`, a shared buffer).
    fn from(data: &T) -> Self {
        data.clone().into()
    }
}

impl From<Bytes> for Message {
    /// A message sharing the bytes, without a copy.
    fn from(data: Bytes) -> Self {
        Self::from_data(Data::Shared(data.into()))
    }
}

impl From<BytesMut> for Message {
    /// A message that takes the buffer over, without a copy.
    fn from(data: BytesMut) -> Self {
        Self::from_data(Data::Unique(data))
    }
}

impl From<Message> for Bytes {
    /// The message's content, without a copy.
    fn from(message: Message) -> Self {
        message.into_payload().into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(props: &[(&str, &[u8])]) -> Option<Arc<Metadata>> {
        let mut metadata = Metadata::default();
        for (name, value) in props {
            metadata
                .insert(name, Bytes::copy_from_slice(value))
                .unwrap();
        }
        Some(Arc::new(metadata))
    }

    #[test]
    fn constructors() {
        let empty = Message::new();
        assert!(empty.is_empty());
        assert!(!empty.get_more());
        assert_eq!(Message::default(), empty);

        let zeroed = Message::with_size(5);
        assert_eq!(&zeroed[..], &[0; 5]);
        #[allow(deprecated)]
        {
            assert_eq!(&Message::with_capacity(3)[..], &[0; 3]);
            assert_eq!(&Message::with_capacity_unallocated(2)[..], &[0; 2]);
            assert_eq!(&Message::from_slice(b"abc")[..], b"abc");
        }
    }

    #[test]
    fn from_slice_and_strings_copy() {
        let source = b"hello".to_vec();
        let message = Message::from(&source[..]);
        assert_eq!(&message[..], b"hello");
        assert_ne!(message.as_ptr(), source.as_ptr());

        assert_eq!(&Message::from("hi")[..], b"hi");
        let owned = String::from("owned");
        assert_eq!(&Message::from(&owned)[..], b"owned");
    }

    #[test]
    fn small_copies_share_a_chunk_and_stay_independent() {
        // Too long to be held inline.
        let (first, second, third) = ([1u8; 50], [2u8; 60], [3u8; 70]);
        let a = Message::from(&first[..]);
        let b = Message::from(&second[..]);
        // Cut one after the other from the thread's chunk: no allocation of their own.
        assert_eq!(b.as_ptr() as usize, a.as_ptr() as usize + first.len());
        // Writing to one copies it out of the chunk; its neighbour is untouched.
        let mut a = a;
        a[0] = 9;
        assert_eq!(a[..2], [9, 1]);
        assert_eq!(&b[..], &second[..]);
        let b2 = Message::from(&third[..]);
        assert_eq!(&b[..], &second[..]);
        assert_eq!(&b2[..], &third[..]);
        // Beyond the small-copy size, a copy has its own allocation.
        let big = vec![9u8; SMALL_COPY_MAX + 1];
        let c = Message::from(&big[..]);
        let d = Message::from(&big[..]);
        assert_eq!(&c[..], &big[..]);
        assert_ne!(d.as_ptr() as usize, c.as_ptr() as usize + big.len());
    }

    #[test]
    fn small_copies_reuse_their_chunk_once_dropped() {
        // Many more bytes than a chunk holds, each copy dropped at once: the chunk is
        // reused in place, so every copy lands in the first chunk's range.
        let first = Message::from(&[0u8; 100][..]).as_ptr() as usize;
        for i in 0..(4 * SMALL_COPY_CHUNK / 100) {
            let m = Message::from(&[i as u8; 100][..]);
            assert!(m.iter().all(|&b| b == i as u8));
            let at = m.as_ptr() as usize;
            assert!(
                at >= first.saturating_sub(SMALL_COPY_CHUNK) && at < first + SMALL_COPY_CHUNK,
                "copy {i} at {at:#x}, outside the chunk at {first:#x}"
            );
        }
        // Copies kept alive across chunks keep their contents.
        let kept: Vec<Message> = (0..200u8).map(|i| Message::from(&[i; 200][..])).collect();
        for (i, m) in kept.iter().enumerate() {
            assert!(m.iter().all(|&b| b == i as u8), "copy {i} changed");
        }
    }

    #[test]
    fn from_vec_does_not_copy() {
        // Both a full vector and one with spare capacity.
        for capacity in [5, 64] {
            let mut data = Vec::with_capacity(capacity);
            data.extend_from_slice(b"hello");
            let ptr = data.as_ptr();
            let message = Message::from(data);
            assert_eq!(message.as_ptr(), ptr);
            assert_eq!(&message[..], b"hello");
            assert_eq!(Bytes::from(message).as_ptr(), ptr);
        }
    }

    #[test]
    fn from_box_does_not_copy() {
        let data: Box<[u8]> = Box::new(*b"boxed");
        let ptr = data.as_ptr();
        let message = Message::from(data);
        assert_eq!(message.as_ptr(), ptr);
        assert_eq!(&message[..], b"boxed");
    }

    #[test]
    fn from_bytes_does_not_copy() {
        let data = Bytes::from(b"shared".to_vec());
        let ptr = data.as_ptr();
        let message = Message::from(data.clone());
        assert_eq!(message.as_ptr(), ptr);
        let by_ref = Message::from(&data);
        assert_eq!(by_ref.as_ptr(), ptr);
        assert_eq!(Bytes::from(message).as_ptr(), ptr);

        let data = BytesMut::from(&b"mutable"[..]);
        let ptr = data.as_ptr();
        let message = Message::from(data);
        assert_eq!(message.as_ptr(), ptr);
        assert_eq!(Bytes::from(message).as_ptr(), ptr);
    }

    #[test]
    fn from_ref_clones() {
        let vec = b"vec".to_vec();
        assert_eq!(&Message::from(&vec)[..], b"vec");
        let message = Message::from("a message far too long to be held inside a frame");
        let copy = Message::from(&message);
        assert_eq!(copy, message);
        // A shared buffer, not a copy.
        assert_eq!(copy.as_ptr(), message.as_ptr());
    }

    #[test]
    fn small_messages_are_held_inline() {
        let mut message = Message::from(&b"tiny"[..]);
        let copy = message.clone();
        // Copied with the message: nothing is shared.
        assert_ne!(copy.as_ptr(), message.as_ptr());
        message[0] = b'T';
        assert_eq!(&message[..], b"Tiny");
        assert_eq!(&copy[..], b"tiny");
        let frame = Frame::new(message.into_payload(), false);
        assert!(frame.data.is_inline());
        assert_eq!(frame.data, &b"Tiny"[..]);
    }

    #[test]
    fn deref_mut_of_a_unique_buffer_does_not_copy() {
        let data = b"abc".to_vec();
        let ptr = data.as_ptr();
        let mut message = Message::from(data);
        message[0] = b'x';
        assert_eq!(message.as_ptr(), ptr);
        assert_eq!(&message[..], b"xbc");
        message.as_mut()[2] = b'z';
        assert_eq!(&message[..], b"xbz");
        assert_eq!(Bytes::from(message).as_ptr(), ptr);
    }

    #[test]
    fn deref_mut_of_a_shared_buffer_copies_once() {
        let buffer = Bytes::from(b"frame-one|frame-two".to_vec());
        let frame = buffer.slice(0..9);
        let mut message = Message::from_frame(Frame::new(frame, false), None);
        assert_eq!(message.as_ptr(), buffer.as_ptr());

        message[0] = b'F';
        let ptr = message.as_ptr();
        assert_ne!(ptr, buffer.as_ptr());
        assert_eq!(&message[..], b"Frame-one");
        // The original buffer is untouched.
        assert_eq!(&buffer[..], b"frame-one|frame-two");
        // Once owned, later writes go to the same buffer.
        message[1] = b'R';
        assert_eq!(message.as_ptr(), ptr);
        assert_eq!(&message[..], b"FRame-one");
    }

    #[test]
    fn clone_then_mutate_leaves_the_clone_alone() {
        let original = Message::from(b"same".to_vec());
        let mut copy = original.clone();
        copy[0] = b'S';
        assert_eq!(&original[..], b"same");
        assert_eq!(&copy[..], b"Same");
        // Cloning a message being mutated copies.
        let again = copy.clone();
        assert_eq!(again, copy);
    }

    #[test]
    fn static_and_empty_buffers_can_be_mutated() {
        let mut message = Message::from(Bytes::from_static(b"static"));
        message[0] = b'S';
        assert_eq!(&message[..], b"Static");
        let mut empty = Message::new();
        assert!(empty.as_mut().is_empty());
    }

    #[test]
    fn as_str() {
        assert_eq!(Message::from("text").as_str(), Some("text"));
        assert_eq!(Message::from(&[0xff, 0xfe][..]).as_str(), None);
        assert_eq!(Message::new().as_str(), Some(""));
    }

    #[test]
    fn more_flag() {
        let message = Message::from_frame(Frame::new(Bytes::from_static(b"a"), true), None);
        assert!(message.get_more());
        let message = Message::from("b");
        assert!(!message.get_more());
    }

    #[test]
    fn equality_ignores_more_and_metadata() {
        let received = Message::from_frame(
            Frame::new(Bytes::from_static(b"x"), true),
            metadata(&[("Socket-Type", b"REQ")]),
        );
        assert_eq!(received, Message::from("x"));
        assert_ne!(received, Message::from("y"));
    }

    #[test]
    fn a_reused_message_takes_each_received_frame_and_its_metadata() {
        let first = metadata(&[("Socket-Type", b"PUSH")]).unwrap();
        let second = metadata(&[("Socket-Type", b"DEALER")]).unwrap();
        let mut message = Message::from("old");
        message.set_received(Frame::more(Bytes::from_static(b"a")), Some(&first));
        assert_eq!((&message[..], message.get_more()), (&b"a"[..], true));
        assert!(Arc::ptr_eq(message.metadata.as_ref().unwrap(), &first));
        // The same connection's metadata is kept, not cloned again.
        message.set_received(Frame::last(Bytes::from_static(b"bc")), Some(&first));
        assert_eq!((&message[..], message.get_more()), (&b"bc"[..], false));
        assert_eq!(Arc::strong_count(&first), 2);
        assert_eq!(message.gets("Socket-Type"), Some("PUSH"));
        // Another connection's replaces it; none leaves none.
        message.set_received(Frame::last(Bytes::from_static(b"d")), Some(&second));
        assert_eq!(message.gets("Socket-Type"), Some("DEALER"));
        assert_eq!(Arc::strong_count(&first), 1);
        message.set_received(Frame::last(Bytes::from_static(b"e")), None);
        assert_eq!(message.gets("Socket-Type"), None);
        assert_eq!(&message[..], b"e");
    }

    #[test]
    fn debug_is_the_bytes() {
        assert_eq!(format!("{:?}", Message::from("hi")), "[104, 105]");
    }

    #[test]
    fn gets_reads_metadata() {
        let mut message = Message::from_frame(
            Frame::new(Bytes::from_static(b"body"), false),
            metadata(&[
                ("Socket-Type", b"DEALER"),
                ("Identity", b"peer-1"),
                ("Peer-Address", b"127.0.0.1"),
                ("User-Id", b"admin"),
                ("X-Bad", &[0xff]),
            ]),
        );
        assert_eq!(message.gets("Socket-Type"), Some("DEALER"));
        assert_eq!(message.gets("Peer-Address"), Some("127.0.0.1"));
        assert_eq!(message.gets("User-Id"), Some("admin"));
        // Case is ignored.
        assert_eq!(message.gets("socket-type"), Some("DEALER"));
        assert_eq!(message.gets("PEER-ADDRESS"), Some("127.0.0.1"));
        // Identity and Routing-Id are the same property.
        assert_eq!(message.gets("Identity"), Some("peer-1"));
        assert_eq!(message.gets("Routing-Id"), Some("peer-1"));
        assert_eq!(message.gets("routing-id"), Some("peer-1"));
        // Not UTF-8, or absent.
        assert_eq!(message.gets("X-Bad"), None);
        assert_eq!(message.gets("X-Missing"), None);
        assert_eq!(message.gets(""), None);
    }

    #[test]
    fn gets_alias_works_both_ways() {
        let mut message = Message::from_frame(
            Frame::new(Bytes::new(), false),
            metadata(&[("Routing-Id", b"r")]),
        );
        assert_eq!(message.gets("Identity"), Some("r"));
        assert_eq!(message.gets("IDENTITY"), Some("r"));
    }

    #[test]
    fn gets_without_metadata() {
        assert_eq!(Message::from("local").gets("Socket-Type"), None);
        assert_eq!(Message::new().gets("Identity"), None);
    }

    #[test]
    fn metadata_survives_mutation_and_clone() {
        let mut message = Message::from_frame(
            Frame::new(Bytes::from_static(b"m"), true),
            metadata(&[("Socket-Type", b"PUB")]),
        );
        message[0] = b'M';
        let mut copy = message.clone();
        assert_eq!(copy.gets("Socket-Type"), Some("PUB"));
        assert!(copy.get_more());
        assert_eq!(message.gets("Socket-Type"), Some("PUB"));
    }

    #[test]
    fn into_bytes_of_a_sized_message() {
        let mut message = Message::with_size(4);
        message.copy_from_slice(b"four");
        let ptr = message.as_ptr();
        let bytes = Bytes::from(message);
        assert_eq!(&bytes[..], b"four");
        assert_eq!(bytes.as_ptr(), ptr);
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Message>();
    }
}
