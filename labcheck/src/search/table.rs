//! An open-addressing hash table specialised for the search.
//!
//! [`IdTable`] maps a hash to the id of an entry stored elsewhere (an arena or
//! a vector), so the keys themselves are stored once and compared through a
//! closure. It uses linear probing at a load factor of at most one half.

const EMPTY: u32 = u32::MAX;

/// 8 bytes: the low half of the entry's hash (which holds the bits that
/// pick its slot, for tables up to 2^32 slots) and its id.
#[derive(Clone, Copy)]
struct Slot {
    hash: u32,
    id: u32,
}

/// A set of entry ids, indexed by each entry's hash.
pub(crate) struct IdTable {
    slots: Vec<Slot>,
    len: usize,
}

impl IdTable {
    pub(crate) fn new() -> Self {
        Self {
            slots: vec![Slot { hash: 0, id: EMPTY }; 64],
            len: 0,
        }
    }

    /// Finds an entry with this hash for which `same(id)` holds.
    #[inline]
    pub(crate) fn find(&self, hash: u64, mut same: impl FnMut(u32) -> bool) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let hash = hash as u32;
        let mut i = hash as usize & mask;
        loop {
            let slot = self.slots[i];
            if slot.id == EMPTY {
                return None;
            }
            if slot.hash == hash && same(slot.id) {
                return Some(slot.id);
            }
            i = (i + 1) & mask;
        }
    }

    /// Finds an entry with this hash for which `same(id)` holds, or records
    /// `new_id` under this hash. Returns `Some(existing id)` or `None` when
    /// `new_id` was inserted.
    #[inline]
    pub(crate) fn find_or_insert(
        &mut self,
        hash: u64,
        new_id: u32,
        mut same: impl FnMut(u32) -> bool,
    ) -> Option<u32> {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let hash = hash as u32;
        let mut i = hash as usize & mask;
        loop {
            let slot = self.slots[i];
            if slot.id == EMPTY {
                self.slots[i] = Slot { hash, id: new_id };
                self.len += 1;
                return None;
            }
            if slot.hash == hash && same(slot.id) {
                return Some(slot.id);
            }
            i = (i + 1) & mask;
        }
    }

    /// The bytes the table holds: 8 per slot, at least two slots per
    /// entry (every slot is written when the table is made).
    pub(crate) fn heap_bytes(&self) -> u64 {
        super::memory::vec_bytes::<Slot>(self.slots.capacity())
    }

    fn grow(&mut self) {
        let bigger = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, vec![Slot { hash: 0, id: EMPTY }; bigger]);
        let mask = bigger - 1;
        for slot in old.into_iter().filter(|s| s.id != EMPTY) {
            let mut i = slot.hash as usize & mask;
            while self.slots[i].id != EMPTY {
                i = (i + 1) & mask;
            }
            self.slots[i] = slot;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_table_finds_what_it_inserted_even_with_colliding_hashes() {
        let mut table = IdTable::new();
        let keys: Vec<u64> = (0..1000).collect();
        for (id, _) in keys.iter().enumerate() {
            // Every key gets one of four hashes to force long probe chains.
            let found = table.find_or_insert(id as u64 % 4, id as u32, |other| {
                keys[other as usize] == keys[id]
            });
            assert_eq!(found, None, "key {id} was reported as already present");
        }
        for id in 0..1000u32 {
            let found = table.find_or_insert(u64::from(id) % 4, 5000, |other| other == id);
            assert_eq!(found, Some(id));
        }
    }
}
