//! A node's versioned key-value map, and the compact containers gossip state is made of.
//!
//! Owns: [`Small`] (a vector that allocates only from its second element on), [`Entry`],
//! [`Digest`] and [`Store`] with its merge rule. Invariant: a store holds at most one entry per
//! key, sorted by key, and a correct merge only ever raises a key's version ("last writer wins"
//! on versions, as in Demers et al. 1987 §1.1, where a newer timestamp supersedes an older one).
//!
//! Versions are `(counter << 32) | writer`: the writer picks `counter` one above the highest
//! counter it has seen for the key, so versions of one key are unique and totally ordered
//! without any coordination. Version 0 means "absent".

use super::Bug;

/// A sequence that stores its first element inline: a node that knows one rumor costs no heap
/// allocation, which is what lets a million-node run fit in memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Small<T> {
    /// No element.
    #[default]
    Empty,
    /// One element, inline.
    One(T),
    /// Two or more elements.
    Many(Vec<T>),
}

impl<T> Small<T> {
    /// The elements as a slice.
    pub fn as_slice(&self) -> &[T] {
        match self {
            Small::Empty => &[],
            Small::One(x) => std::slice::from_ref(x),
            Small::Many(v) => v,
        }
    }

    /// The elements as a mutable slice.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        match self {
            Small::Empty => &mut [],
            Small::One(x) => std::slice::from_mut(x),
            Small::Many(v) => v,
        }
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether there is no element.
    pub fn is_empty(&self) -> bool {
        matches!(self, Small::Empty)
    }

    /// Appends an element.
    pub fn push(&mut self, x: T) {
        *self = match std::mem::take(self) {
            Small::Empty => Small::One(x),
            Small::One(a) => Small::Many(vec![a, x]),
            Small::Many(mut v) => {
                v.push(x);
                Small::Many(v)
            }
        };
    }

    /// Inserts an element at `at`, shifting later ones.
    pub fn insert(&mut self, at: usize, x: T) {
        let mut v = self.take_vec();
        v.insert(at, x);
        *self = Small::from_vec(v);
    }

    /// Keeps the elements for which `keep` is true.
    pub fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        if self.is_empty() {
            return;
        }
        let mut v = self.take_vec();
        v.retain(keep);
        *self = Small::from_vec(v);
    }

    fn take_vec(&mut self) -> Vec<T> {
        match std::mem::take(self) {
            Small::Empty => Vec::new(),
            Small::One(a) => vec![a],
            Small::Many(v) => v,
        }
    }

    /// Builds from a vector, inlining zero or one element.
    pub fn from_vec(mut v: Vec<T>) -> Small<T> {
        match v.len() {
            0 => Small::Empty,
            // Cannot fail: the length is 1.
            1 => Small::One(v.pop().expect("one element")),
            _ => Small::Many(v),
        }
    }
}

/// A `Small` is written as the list of its elements (how it is stored is not content).
impl<T: serde::Serialize> serde::Serialize for Small<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.as_slice())
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Small<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<T>::deserialize(d)?.into_iter().collect())
    }
}

impl<T> FromIterator<T> for Small<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut it = iter.into_iter();
        let Some(a) = it.next() else {
            return Small::Empty;
        };
        let Some(b) = it.next() else {
            return Small::One(a);
        };
        let mut v = vec![a, b];
        v.extend(it);
        Small::Many(v)
    }
}

/// One key's value at one version, as stored and as sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// The key.
    pub key: u32,
    /// The round (true time / period) in which this node learned the entry. It decides what a
    /// node shows in synchronous rounds (the state at the start of the round); it is not part
    /// of the data and is ignored when stores are compared.
    pub round: u32,
    /// The version; higher wins.
    pub version: u64,
    /// The value written.
    pub value: u64,
}

/// A key and the version a node holds: the unit of an anti-entropy digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Digest {
    /// The key.
    pub key: u32,
    /// The version held.
    pub version: u64,
}

/// The versioned map, sorted by key.
pub type Store = Small<Entry>;

/// The version a writer assigns: one counter above `current`, tagged with the writer's id.
pub fn next_version(current: u64, writer: u32) -> u64 {
    (((current >> 32) + 1) << 32) | u64::from(writer)
}

/// What applying an incoming entry did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The entry was new to this node.
    Adopted,
    /// This node already had it (or something newer).
    Redundant,
}

/// Store operations (kept as free functions over the `Small` alias).
pub trait StoreExt {
    /// The entry for `key`.
    fn get(&self, key: u32) -> Option<&Entry>;
    /// The version held for `key`, 0 if none.
    fn version_of(&self, key: u32) -> u64;
    /// Writes an entry (a local write or an adopted one), replacing the key's entry.
    fn put(&mut self, e: Entry);
    /// Whether `apply` would change the store (so callers touch durable storage only then).
    fn would_adopt(&self, e: &Entry, bug: Option<Bug>) -> bool;
    /// Merges an incoming entry by the version rule (or a known-bug rule).
    fn apply(&mut self, e: Entry, round: u32, bug: Option<Bug>) -> Applied;
    /// The digest of the entries `visible` lets through.
    fn digest(&self, visible: impl Fn(&Entry) -> bool) -> Small<Digest>;
    /// Visible entries newer than what `digest` holds (what the digest's owner is missing).
    fn newer_than(
        &self,
        digest: &[Digest],
        visible: impl Fn(&Entry) -> bool,
        bug: Option<Bug>,
    ) -> Small<Entry>;
    /// Keys the digest holds newer than this store (what this node wants from its owner).
    fn wanted_from(&self, digest: &[Digest], bug: Option<Bug>) -> Small<u32>;
    /// Whether two stores hold the same data (versions and values; learn rounds ignored).
    fn same_data(&self, other: &Self) -> bool;
}

impl StoreExt for Store {
    fn get(&self, key: u32) -> Option<&Entry> {
        let s = self.as_slice();
        s.binary_search_by_key(&key, |e| e.key).ok().map(|i| &s[i])
    }

    fn version_of(&self, key: u32) -> u64 {
        self.get(key).map_or(0, |e| e.version)
    }

    fn put(&mut self, e: Entry) {
        match self.as_slice().binary_search_by_key(&e.key, |x| x.key) {
            Ok(i) => self.as_mut_slice()[i] = e,
            Err(i) => self.insert(i, e),
        }
    }

    fn would_adopt(&self, e: &Entry, bug: Option<Bug>) -> bool {
        match (self.get(e.key), bug) {
            (None, _) => true,
            // Known bug: "last arrival wins", any different version replaces the held one.
            (Some(cur), Some(Bug::OverwriteOlder)) => e.version != cur.version,
            (Some(cur), _) => e.version > cur.version,
        }
    }

    fn apply(&mut self, e: Entry, round: u32, bug: Option<Bug>) -> Applied {
        if !self.would_adopt(&e, bug) {
            return Applied::Redundant;
        }
        let incoming = Entry { round, ..e };
        let Some(cur) = self.get(e.key).copied() else {
            self.put(incoming);
            return Applied::Adopted;
        };
        if bug == Some(Bug::VersionOnly) {
            // Known bug: the version is bumped but the old value is kept, creating a
            // (version, value) pair that nobody wrote.
            self.put(Entry {
                value: cur.value,
                ..incoming
            });
        } else {
            self.put(incoming);
        }
        Applied::Adopted
    }

    fn digest(&self, visible: impl Fn(&Entry) -> bool) -> Small<Digest> {
        self.as_slice()
            .iter()
            .filter(|e| visible(e))
            .map(|e| Digest {
                key: e.key,
                version: e.version,
            })
            .collect()
    }

    fn newer_than(
        &self,
        digest: &[Digest],
        visible: impl Fn(&Entry) -> bool,
        bug: Option<Bug>,
    ) -> Small<Entry> {
        self.as_slice()
            .iter()
            .filter(|e| visible(e))
            .filter(|e| match digest.binary_search_by_key(&e.key, |d| d.key) {
                Err(_) => true,
                // Known bug: the digest is compared by keys only, so updates of a key the
                // peer already has never travel.
                Ok(_) if bug == Some(Bug::DigestKeysOnly) => false,
                Ok(i) => digest[i].version < e.version,
            })
            .copied()
            .collect()
    }

    fn wanted_from(&self, digest: &[Digest], bug: Option<Bug>) -> Small<u32> {
        digest
            .iter()
            .filter(|d| match self.get(d.key) {
                None => true,
                Some(_) if bug == Some(Bug::DigestKeysOnly) => false,
                Some(e) => e.version < d.version,
            })
            .map(|d| d.key)
            .collect()
    }

    fn same_data(&self, other: &Self) -> bool {
        let (a, b) = (self.as_slice(), other.as_slice());
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (x.key, x.version, x.value) == (y.key, y.version, y.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(key: u32, version: u64, value: u64) -> Entry {
        Entry {
            key,
            round: 0,
            version,
            value,
        }
    }

    #[test]
    fn small_inlines_one_element_and_keeps_order() {
        let mut s: Small<u32> = Small::default();
        s.push(3);
        assert!(matches!(s, Small::One(3)));
        s.insert(0, 1);
        s.push(5);
        assert_eq!(s.as_slice(), &[1, 3, 5]);
        s.retain(|&x| x == 3);
        assert!(matches!(s, Small::One(3)));
        assert!(std::mem::size_of::<Store>() <= 32);
    }

    #[test]
    fn merge_keeps_the_highest_version_unless_a_bug_is_on() {
        let mut s = Store::default();
        assert_eq!(s.apply(e(1, 10, 100), 0, None), Applied::Adopted);
        assert_eq!(s.apply(e(1, 5, 50), 0, None), Applied::Redundant);
        assert_eq!(s.get(1).unwrap().value, 100);
        assert_eq!(
            s.apply(e(1, 5, 50), 0, Some(Bug::OverwriteOlder)),
            Applied::Adopted
        );
        assert_eq!(s.version_of(1), 5);
        s.apply(e(1, 20, 200), 0, Some(Bug::VersionOnly));
        assert_eq!((s.version_of(1), s.get(1).unwrap().value), (20, 50));
    }

    #[test]
    fn digests_select_only_what_is_missing() {
        let mut a = Store::default();
        a.put(e(1, 10, 1));
        a.put(e(2, 10, 2));
        let mut b = Store::default();
        b.put(e(1, 5, 0));
        b.put(e(3, 7, 3));
        let db = b.digest(|_| true);
        let sent = a.newer_than(db.as_slice(), |_| true, None);
        assert_eq!(sent.as_slice(), &[e(1, 10, 1), e(2, 10, 2)]);
        let keys_only = a.newer_than(db.as_slice(), |_| true, Some(Bug::DigestKeysOnly));
        assert_eq!(keys_only.as_slice(), &[e(2, 10, 2)]);
        assert_eq!(a.wanted_from(db.as_slice(), None).as_slice(), &[3]);
        assert_eq!(next_version(next_version(0, 7), 9), (2 << 32) | 9);
    }
}
