//! A map from log index to a value, for the monitor's tables of committed and applied
//! entries: log indices are dense from 1, so a vector indexed by them replaces a `BTreeMap`
//! (one lookup per applied entry per server is on the checker's hottest path). Iteration is in
//! index order, as a `BTreeMap`'s would be.

/// Values by log index.
#[derive(Clone, Debug)]
pub struct Dense<T> {
    slots: Vec<Option<T>>,
    len: usize,
}

impl<T> Default for Dense<T> {
    fn default() -> Self {
        Dense {
            slots: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Copy> Dense<T> {
    /// The value at `idx`, if any.
    pub fn get(&self, idx: u64) -> Option<T> {
        self.slots.get(idx as usize).copied().flatten()
    }

    /// The value at `idx`, inserting `value` first if there is none.
    pub fn get_or_insert(&mut self, idx: u64, value: T) -> T {
        let i = idx as usize;
        if i >= self.slots.len() {
            self.slots.resize(i + 1, None);
        }
        *self.slots[i].get_or_insert_with(|| {
            self.len += 1;
            value
        })
    }

    /// How many indices hold a value.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `(index, value)` pairs in index order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, T)> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (i as u64, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::Dense;

    #[test]
    fn keeps_the_first_value_and_iterates_in_index_order() {
        let mut d = Dense::default();
        assert_eq!(d.len(), 0);
        assert_eq!(d.get_or_insert(5, 'a'), 'a');
        assert_eq!(d.get_or_insert(5, 'b'), 'a');
        assert_eq!(d.get_or_insert(2, 'c'), 'c');
        assert_eq!(d.get(5), Some('a'));
        assert_eq!(d.get(3), None);
        assert_eq!(d.get(99), None);
        assert_eq!(d.len(), 2);
        assert_eq!(d.iter().collect::<Vec<_>>(), vec![(2, 'c'), (5, 'a')]);
    }
}
