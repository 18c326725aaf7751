//! The history as a doubly linked list of call and return events.
//!
//! The list lives in flat arrays indexed by node number (node 0 is the head
//! sentinel, the list is circular). Linearizing an operation unlinks its call
//! and return nodes; backtracking relinks them. Because relinking always
//! happens in the reverse order of unlinking, each node's own links still
//! say where it belongs ("dancing links"), so both take O(1).

/// The head sentinel's node number.
pub(crate) const HEAD: u32 = 0;

#[derive(Clone)]
pub(crate) struct EventList {
    next: Vec<u32>,
    prev: Vec<u32>,
    /// For each node: `op << 1 | is_return`.
    tag: Vec<u32>,
    /// For each op: its call node.
    call_node: Vec<u32>,
    /// For each op: its return node.
    ret_node: Vec<u32>,
}

impl EventList {
    /// Builds the list from each operation's `(call, return)` times (a return
    /// of `u64::MAX` means "never"). Events are ordered by time; at equal
    /// times calls come first, so operations that touch count as concurrent.
    pub(crate) fn new(times: &[(u64, u64)]) -> Self {
        let n = times.len();
        // (time, is_return, op): sorting puts calls before returns on ties.
        let mut events: Vec<(u64, bool, u32)> = Vec::with_capacity(2 * n);
        for (op, &(call, ret)) in times.iter().enumerate() {
            events.push((call, false, op as u32));
            events.push((ret.max(call), true, op as u32));
        }
        events.sort_unstable();

        let nodes = 2 * n + 1;
        let mut list = Self {
            next: vec![HEAD; nodes],
            prev: vec![HEAD; nodes],
            tag: vec![0; nodes],
            call_node: vec![0; n],
            ret_node: vec![0; n],
        };
        for (i, &(_, is_return, op)) in events.iter().enumerate() {
            let node = i as u32 + 1;
            list.tag[node as usize] = (op << 1) | u32::from(is_return);
            if is_return {
                list.ret_node[op as usize] = node;
            } else {
                list.call_node[op as usize] = node;
            }
            list.prev[node as usize] = node - 1;
            list.next[node as usize - 1] = node;
        }
        let last = events.len() as u32;
        list.next[last as usize] = HEAD;
        list.prev[HEAD as usize] = last;
        list
    }

    /// The bytes the list has allocated (about 20 per operation).
    pub(crate) fn heap_bytes(&self) -> u64 {
        [
            &self.next,
            &self.prev,
            &self.tag,
            &self.call_node,
            &self.ret_node,
        ]
        .iter()
        .map(|v| super::memory::vec_bytes::<u32>(v.capacity()))
        .sum()
    }

    /// The first node after the head (`HEAD` when the list is empty).
    #[inline]
    pub(crate) fn first(&self) -> u32 {
        self.next[HEAD as usize]
    }

    #[inline]
    pub(crate) fn next(&self, node: u32) -> u32 {
        self.next[node as usize]
    }

    #[inline]
    pub(crate) fn prev(&self, node: u32) -> u32 {
        self.prev[node as usize]
    }

    #[inline]
    pub(crate) fn is_return(&self, node: u32) -> bool {
        self.tag[node as usize] & 1 == 1
    }

    #[inline]
    pub(crate) fn op(&self, node: u32) -> u32 {
        self.tag[node as usize] >> 1
    }

    #[inline]
    pub(crate) fn call_node(&self, op: u32) -> u32 {
        self.call_node[op as usize]
    }

    #[inline]
    fn unlink(&mut self, node: u32) {
        let (p, n) = (self.prev[node as usize], self.next[node as usize]);
        self.next[p as usize] = n;
        self.prev[n as usize] = p;
    }

    #[inline]
    fn relink(&mut self, node: u32) {
        let (p, n) = (self.prev[node as usize], self.next[node as usize]);
        self.next[p as usize] = node;
        self.prev[n as usize] = node;
    }

    /// Removes an operation's call and return events.
    #[inline]
    pub(crate) fn lift(&mut self, op: u32) {
        self.unlink(self.call_node[op as usize]);
        self.unlink(self.ret_node[op as usize]);
    }

    /// Puts back the operation lifted most recently.
    #[inline]
    pub(crate) fn unlift(&mut self, op: u32) {
        self.relink(self.ret_node[op as usize]);
        self.relink(self.call_node[op as usize]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(list: &EventList) -> Vec<(u32, bool)> {
        let mut out = Vec::new();
        let mut node = list.first();
        while node != HEAD {
            out.push((list.op(node), list.is_return(node)));
            node = list.next(node);
        }
        out
    }

    #[test]
    fn events_are_in_time_order_with_calls_first_on_ties() {
        let list = EventList::new(&[(0, 5), (5, 9), (1, 2)]);
        assert_eq!(
            order(&list),
            vec![
                (0, false),
                (2, false),
                (2, true),
                (1, false),
                (0, true),
                (1, true)
            ]
        );
    }

    #[test]
    fn lift_then_unlift_in_reverse_restores_the_list() {
        let mut list = EventList::new(&[(0, 5), (1, 6), (2, 3), (4, u64::MAX)]);
        let before = order(&list);
        list.lift(2);
        list.lift(0);
        assert_eq!(
            order(&list),
            vec![(1, false), (3, false), (1, true), (3, true)]
        );
        list.unlift(0);
        list.unlift(2);
        assert_eq!(order(&list), before);
    }
}
