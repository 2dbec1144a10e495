//! Subscription tries: prefix matching of topics against the first frame of a message.
//!
//! Two tries share one core, a radix tree (edges carry byte strings, so a topic of n bytes
//! costs at most two nodes however long it is, where libzmq's per-byte trie costs n):
//!
//! - [`SubscriptionTrie`]: counted topics, for SUB and XSUB (libzmq's `trie_t`). A topic
//!   subscribed twice needs two cancels.
//! - [`MultiTrie`]: for each topic the set of values (peers) subscribed to it, for PUB and
//!   XPUB (libzmq's `mtrie_t`). A value is in a topic's set at most once. A reverse index
//!   makes removing every subscription of one value cost its own topics, not the whole trie.
//!
//! Every operation is a loop over an explicit position or stack; nothing recurses, so no
//! topic or sequence of operations a peer can send grows the call stack (libzmq's recursive
//! mtrie removal could, advisory GHSA-qq65-x72m-9wr8, fixed in 4.3.3).
//! Nodes live in one vector and are reused, so a trie holding nothing keeps no memory beyond
//! its largest size.
//!
//! Topics are ordered as byte strings (`[u8]`'s `Ord`: a prefix before its extensions);
//! every "in order" below means that order.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

/// The root node's index; its label is empty and it is never freed.
const ROOT: usize = 0;

/// What a node holds for its topic; "empty" means the node is not a topic.
trait Slot: Default {
    fn is_empty(&self) -> bool;
}

impl Slot for u64 {
    fn is_empty(&self) -> bool {
        *self == 0
    }
}

impl<V> Slot for Vec<V> {
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone, Debug, Default)]
struct Node<T> {
    /// The bytes on the edge from the parent to this node; empty only for the root (and
    /// for free nodes).
    label: Vec<u8>,
    parent: usize,
    /// Children by the first byte of their label, in byte order.
    children: Vec<(u8, usize)>,
    value: T,
}

/// A radix tree whose nodes hold a `T`.
///
/// Invariants between operations: a node other than the root that holds an empty value has
/// at least two children (so every leaf holds a value, and every subtree holds one); the
/// children of a node start with distinct bytes.
#[derive(Clone, Debug)]
struct Radix<T> {
    nodes: Vec<Node<T>>,
    free: Vec<usize>,
}

/// The length of the longest common prefix of `a` and `b`.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    if a == b {
        return n;
    }
    // Whole chunks compare as slices (memcmp), the rest byte by byte.
    const CHUNK: usize = 64;
    let mut i = 0;
    while i + CHUNK <= n && a[i..i + CHUNK] == b[i..i + CHUNK] {
        i += CHUNK;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

impl<T: Slot> Radix<T> {
    fn new() -> Self {
        Self {
            nodes: alloc::vec![Node::default()],
            free: Vec::new(),
        }
    }

    fn valued(&self, node: usize) -> bool {
        !self.nodes[node].value.is_empty()
    }

    /// The index in `node`'s children of the child whose label starts with `b`.
    fn child_index(&self, node: usize, b: u8) -> Result<usize, usize> {
        self.nodes[node]
            .children
            .binary_search_by_key(&b, |&(c, _)| c)
    }

    fn child(&self, node: usize, b: u8) -> Option<usize> {
        let i = self.child_index(node, b).ok()?;
        Some(self.nodes[node].children[i].1)
    }

    /// The node whose key is exactly `key`, if the tree has one (it may hold no value).
    fn find(&self, key: &[u8]) -> Option<usize> {
        let mut node = ROOT;
        let mut rest = key;
        while let Some(&b) = rest.first() {
            let child = self.child(node, b)?;
            let label = &self.nodes[child].label;
            if !rest.starts_with(label) {
                return None;
            }
            rest = &rest[label.len()..];
            node = child;
        }
        Some(node)
    }

    fn alloc(&mut self, label: Vec<u8>, parent: usize) -> usize {
        let node = Node {
            label,
            parent,
            children: Vec::new(),
            value: T::default(),
        };
        match self.free.pop() {
            Some(id) => {
                self.nodes[id] = node;
                id
            }
            None => {
                self.nodes.push(node);
                self.nodes.len() - 1
            }
        }
    }

    fn release(&mut self, id: usize) {
        self.nodes[id] = Node::default();
        self.free.push(id);
    }

    /// The node for `key`, created when missing (splitting an edge if `key` ends or
    /// diverges inside it). The caller gives a new node a value before the next operation.
    fn insert(&mut self, key: &[u8]) -> usize {
        let mut node = ROOT;
        let mut rest = key;
        loop {
            let Some(&b) = rest.first() else {
                return node;
            };
            let at = match self.child_index(node, b) {
                Err(at) => {
                    let leaf = self.alloc(rest.to_vec(), node);
                    self.nodes[node].children.insert(at, (b, leaf));
                    return leaf;
                }
                Ok(at) => at,
            };
            let child = self.nodes[node].children[at].1;
            let common = common_prefix(&self.nodes[child].label, rest);
            if common == self.nodes[child].label.len() {
                rest = &rest[common..];
                node = child;
                continue;
            }
            // Split the edge to `child` after `common` bytes (at least one: the first byte
            // matched): a middle node takes the head, `child` keeps the tail (and its id).
            let tail = self.nodes[child].label.split_off(common);
            let head = core::mem::replace(&mut self.nodes[child].label, tail);
            let tail_first = self.nodes[child].label[0];
            let middle = self.alloc(head, node);
            self.nodes[middle].children.push((tail_first, child));
            self.nodes[child].parent = middle;
            self.nodes[node].children[at].1 = middle;
            rest = &rest[common..];
            let Some(&leaf_first) = rest.first() else {
                return middle;
            };
            let leaf = self.alloc(rest.to_vec(), middle);
            let pos = usize::from(leaf_first > tail_first);
            self.nodes[middle].children.insert(pos, (leaf_first, leaf));
            return leaf;
        }
    }

    /// Restores the invariants after `id`'s value became empty: frees the node if it has
    /// no children (then looks at its parent), or merges it into its only child.
    ///
    /// Only nodes without a value are freed or merged away; a node holding a value keeps
    /// its id.
    fn prune(&mut self, mut id: usize) {
        loop {
            if id == ROOT || self.valued(id) {
                return;
            }
            match self.nodes[id].children.len() {
                0 => {
                    let parent = self.nodes[id].parent;
                    let b = self.nodes[id].label[0];
                    if let Ok(i) = self.child_index(parent, b) {
                        self.nodes[parent].children.remove(i);
                    }
                    self.release(id);
                    id = parent;
                }
                1 => {
                    self.merge_into_child(id);
                    return;
                }
                _ => return,
            }
        }
    }

    /// Replaces `id` (not the root, no value, one child) by its child, whose label grows by
    /// `id`'s in front.
    fn merge_into_child(&mut self, id: usize) {
        let child = self.nodes[id].children[0].1;
        let parent = self.nodes[id].parent;
        let mut label = core::mem::take(&mut self.nodes[id].label);
        label.extend_from_slice(&self.nodes[child].label);
        let first = label[0];
        self.nodes[child].label = label;
        self.nodes[child].parent = parent;
        if let Ok(i) = self.child_index(parent, first) {
            self.nodes[parent].children[i].1 = child;
        }
        self.release(id);
    }

    /// Calls `f` with each node holding a value whose key is a prefix of `data`, shortest
    /// first, until `f` returns `false`.
    fn for_each_prefix(&self, data: &[u8], mut f: impl FnMut(usize) -> bool) {
        let mut node = ROOT;
        let mut rest = data;
        loop {
            if self.valued(node) && !f(node) {
                return;
            }
            let Some(&b) = rest.first() else {
                return;
            };
            let Some(child) = self.child(node, b) else {
                return;
            };
            let label = &self.nodes[child].label;
            if !rest.starts_with(label) {
                return;
            }
            rest = &rest[label.len()..];
            node = child;
        }
    }

    /// Writes the key of `id` into `out`.
    fn key_of(&self, id: usize, out: &mut Vec<u8>) {
        let mut len = 0;
        let mut n = id;
        while n != ROOT {
            len += self.nodes[n].label.len();
            n = self.nodes[n].parent;
        }
        out.clear();
        out.resize(len, 0);
        let mut end = len;
        n = id;
        while n != ROOT {
            let label = &self.nodes[n].label;
            out[end - label.len()..end].copy_from_slice(label);
            end -= label.len();
            n = self.nodes[n].parent;
        }
    }

    /// The first node holding a value in the subtree of `node` (itself included), in order.
    fn first_in(&self, mut node: usize) -> Option<usize> {
        loop {
            if self.valued(node) {
                return Some(node);
            }
            node = self.nodes[node].children.first()?.1;
        }
    }

    /// The first node holding a value in the subtrees of `node`'s children from index `i`,
    /// else after `node`'s subtree.
    fn first_from(&self, mut node: usize, mut i: usize) -> Option<usize> {
        loop {
            if let Some(&(_, child)) = self.nodes[node].children.get(i) {
                // Every non-empty subtree holds a value (the invariants).
                return self.first_in(child);
            }
            if node == ROOT {
                return None;
            }
            let b = self.nodes[node].label[0];
            let parent = self.nodes[node].parent;
            i = self.child_index(parent, b).map_or(usize::MAX - 1, |i| i) + 1;
            node = parent;
        }
    }

    /// The first node holding a value whose key is greater than `after` (any key, with
    /// `None`), in order.
    fn successor(&self, after: Option<&[u8]>) -> Option<usize> {
        let Some(after) = after else {
            return self.first_in(ROOT);
        };
        let mut node = ROOT;
        let mut rest = after;
        loop {
            // `node`'s key is the part of `after` before `rest`.
            let Some(&b) = rest.first() else {
                // `node`'s key is `after`: what follows is below it.
                return self.first_from(node, 0);
            };
            let i = match self.child_index(node, b) {
                Ok(i) => i,
                // Children from `i` on start with a greater byte.
                Err(i) => return self.first_from(node, i),
            };
            let child = self.nodes[node].children[i].1;
            let label = &self.nodes[child].label;
            let common = common_prefix(label, rest);
            if common == label.len() {
                rest = &rest[common..];
                node = child;
            } else if common == rest.len() || label[common] > rest[common] {
                // `after` ends inside the label, or the label is greater: the whole subtree
                // comes after.
                return self.first_in(child);
            } else {
                // The label is smaller: the whole subtree comes before.
                return self.first_from(node, i + 1);
            }
        }
    }

    /// Calls `f` with the key and value of every node holding a value, in order.
    fn for_each(&self, mut f: impl FnMut(&[u8], &T)) {
        let mut key = Vec::new();
        if self.valued(ROOT) {
            f(&key, &self.nodes[ROOT].value);
        }
        // (node, index of the next child to visit)
        let mut stack: Vec<(usize, usize)> = alloc::vec![(ROOT, 0)];
        while let Some(top) = stack.last_mut() {
            let (node, i) = *top;
            if let Some(&(_, child)) = self.nodes[node].children.get(i) {
                top.1 += 1;
                key.extend_from_slice(&self.nodes[child].label);
                if self.valued(child) {
                    f(&key, &self.nodes[child].value);
                }
                stack.push((child, 0));
            } else {
                stack.pop();
                let len = self.nodes[node].label.len();
                key.truncate(key.len() - len);
            }
        }
    }

    /// Nodes in use (the root included).
    fn node_count(&self) -> usize {
        self.nodes.len() - self.free.len()
    }
}

/// Counted topics with prefix matching: the subscriptions of a SUB or XSUB socket
/// (libzmq's `trie_t`).
///
/// ```
/// use zmq_patterns::SubscriptionTrie;
///
/// let mut trie = SubscriptionTrie::new();
/// assert!(trie.add(b"weather."));
/// assert!(!trie.add(b"weather."), "a second reference to the same topic");
/// assert!(trie.matches(b"weather.paris"));
/// assert!(!trie.matches(b"news"));
/// assert!(!trie.remove(b"weather."), "one reference is left");
/// assert!(trie.remove(b"weather."), "the last reference went");
/// assert!(trie.is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct SubscriptionTrie {
    radix: Radix<u64>,
    topics: usize,
}

impl Default for SubscriptionTrie {
    fn default() -> Self {
        Self::new()
    }
}

impl SubscriptionTrie {
    /// An empty trie.
    pub fn new() -> Self {
        Self {
            radix: Radix::new(),
            topics: 0,
        }
    }

    /// Adds a reference to `topic`; `true` if the topic is new (had none).
    pub fn add(&mut self, topic: &[u8]) -> bool {
        let id = self.radix.insert(topic);
        let count = &mut self.radix.nodes[id].value;
        let new = *count == 0;
        *count = count.saturating_add(1);
        if new {
            self.topics += 1;
        }
        new
    }

    /// Removes a reference to `topic`; `true` if that was its last one (the topic is gone).
    /// `false` also for a topic that was not there.
    pub fn remove(&mut self, topic: &[u8]) -> bool {
        let Some(id) = self.radix.find(topic) else {
            return false;
        };
        let count = &mut self.radix.nodes[id].value;
        match *count {
            0 => false,
            1 => {
                *count = 0;
                self.topics -= 1;
                self.radix.prune(id);
                true
            }
            _ => {
                *count -= 1;
                false
            }
        }
    }

    /// The references to `topic` (0 if it is not there).
    pub fn count(&self, topic: &[u8]) -> u64 {
        self.radix
            .find(topic)
            .map_or(0, |id| self.radix.nodes[id].value)
    }

    /// Whether some topic is a prefix of `data` (the empty topic matches everything).
    pub fn matches(&self, data: &[u8]) -> bool {
        let mut found = false;
        self.radix.for_each_prefix(data, |_| {
            found = true;
            false
        });
        found
    }

    /// The number of distinct topics (libzmq's `ZMQ_TOPICS_COUNT`).
    pub fn len(&self) -> usize {
        self.topics
    }

    /// Whether there is no topic.
    pub fn is_empty(&self) -> bool {
        self.topics == 0
    }

    /// Writes into `out` the first topic greater than `after` (the first topic, with
    /// `None`); `false` (and `out` unchanged) if there is none. Iterates over the topics in
    /// order while the trie changes between calls.
    pub fn next_after(&self, after: Option<&[u8]>, out: &mut Vec<u8>) -> bool {
        match self.radix.successor(after) {
            Some(id) => {
                self.radix.key_of(id, out);
                true
            }
            None => false,
        }
    }

    /// Calls `f` with every topic and its count, in order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], u64)) {
        self.radix.for_each(|key, &count| f(key, count));
    }

    /// Nodes in use, the root included (at most twice the topics, plus one).
    #[doc(hidden)]
    pub fn node_count(&self) -> usize {
        self.radix.node_count()
    }
}

/// The outcome of [`MultiTrie::remove`] (libzmq's `rm_result`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Removed {
    /// The value was not subscribed to the topic; nothing changed.
    NotFound,
    /// The value was the topic's last one: the topic is gone.
    LastValueRemoved,
    /// The value is removed; others remain subscribed to the topic.
    ValuesRemain,
}

/// For each topic the set of values subscribed to it, with prefix matching: the
/// subscriptions of a PUB or XPUB socket, by peer (libzmq's `mtrie_t`).
///
/// ```
/// use zmq_patterns::{MultiTrie, Removed};
///
/// let mut trie = MultiTrie::new();
/// assert!(trie.add(b"a", 1), "first value of the topic");
/// assert!(trie.add(b"ab", 2));
/// assert!(!trie.add(b"a", 2));
/// let mut matched = Vec::new();
/// trie.for_each_match(b"abc", |peer| matched.push(peer));
/// assert_eq!(matched, [1, 2, 2]); // "a" then "ab"; the caller de-duplicates
/// assert_eq!(trie.remove(b"a", 1), Removed::ValuesRemain);
/// let mut gone = Vec::new();
/// trie.remove_value(2, |topic, last| gone.push((topic.to_vec(), last)));
/// assert_eq!(gone, [(b"a".to_vec(), true), (b"ab".to_vec(), true)]);
/// assert!(trie.is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct MultiTrie<V> {
    /// Each node's values, sorted.
    radix: Radix<Vec<V>>,
    topics: usize,
    /// The nodes each value is subscribed at.
    by_value: BTreeMap<V, BTreeSet<usize>>,
}

impl<V: Copy + Ord> Default for MultiTrie<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: Copy + Ord> MultiTrie<V> {
    /// An empty trie.
    pub fn new() -> Self {
        Self {
            radix: Radix::new(),
            topics: 0,
            by_value: BTreeMap::new(),
        }
    }

    /// Subscribes `value` to `topic`; `true` if it is the topic's first value. Adding a
    /// value already subscribed changes nothing.
    pub fn add(&mut self, topic: &[u8], value: V) -> bool {
        let id = self.radix.insert(topic);
        let values = &mut self.radix.nodes[id].value;
        let first = values.is_empty();
        if let Err(i) = values.binary_search(&value) {
            values.insert(i, value);
            self.by_value.entry(value).or_default().insert(id);
        }
        if first {
            self.topics += 1;
        }
        first
    }

    /// Unsubscribes `value` from `topic`.
    pub fn remove(&mut self, topic: &[u8], value: V) -> Removed {
        let Some(id) = self.radix.find(topic) else {
            return Removed::NotFound;
        };
        let values = &mut self.radix.nodes[id].value;
        let Ok(i) = values.binary_search(&value) else {
            return Removed::NotFound;
        };
        values.remove(i);
        let last = values.is_empty();
        if let Some(ids) = self.by_value.get_mut(&value) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_value.remove(&value);
            }
        }
        if last {
            self.topics -= 1;
            self.radix.prune(id);
            Removed::LastValueRemoved
        } else {
            Removed::ValuesRemain
        }
    }

    /// Unsubscribes `value` from every topic, calling `f` with each topic, in order, and
    /// whether `value` was its last value (the topic is gone). Costs the value's own topics,
    /// not the whole trie.
    pub fn remove_value(&mut self, value: V, mut f: impl FnMut(&[u8], bool)) {
        let Some(ids) = self.by_value.remove(&value) else {
            return;
        };
        let mut entries: Vec<(Vec<u8>, usize)> = ids
            .into_iter()
            .map(|id| {
                let mut key = Vec::new();
                self.radix.key_of(id, &mut key);
                (key, id)
            })
            .collect();
        entries.sort_unstable();
        // Pruning frees or merges only nodes without values; every node still listed holds
        // `value`, so its id stays valid.
        for (key, id) in entries {
            let values = &mut self.radix.nodes[id].value;
            if let Ok(i) = values.binary_search(&value) {
                values.remove(i);
            }
            let last = values.is_empty();
            if last {
                self.topics -= 1;
                self.radix.prune(id);
            }
            f(&key, last);
        }
    }

    /// Calls `f` with the values of every topic that is a prefix of `data`, shortest topic
    /// first. A value subscribed to several such topics comes once for each.
    pub fn for_each_match(&self, data: &[u8], mut f: impl FnMut(V)) {
        self.radix.for_each_prefix(data, |id| {
            for &v in &self.radix.nodes[id].value {
                f(v);
            }
            true
        });
    }

    /// Whether `value` is subscribed to `topic`.
    pub fn contains(&self, topic: &[u8], value: V) -> bool {
        self.radix
            .find(topic)
            .is_some_and(|id| self.radix.nodes[id].value.binary_search(&value).is_ok())
    }

    /// The number of topics `value` is subscribed to.
    pub fn topics_of(&self, value: V) -> usize {
        self.by_value.get(&value).map_or(0, BTreeSet::len)
    }

    /// The number of distinct topics with at least one value (libzmq's
    /// `ZMQ_TOPICS_COUNT`).
    pub fn len(&self) -> usize {
        self.topics
    }

    /// Whether there is no topic.
    pub fn is_empty(&self) -> bool {
        self.topics == 0
    }

    /// Calls `f` with every topic and its values (sorted), in order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], &[V])) {
        self.radix.for_each(|key, values| f(key, values));
    }

    /// Nodes in use, the root included (at most twice the topics, plus one).
    #[doc(hidden)]
    pub fn node_count(&self) -> usize {
        self.radix.node_count()
    }
}
