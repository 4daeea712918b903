//! Which udpSend id a TX stamp belongs to. The kernel's OPT_ID key counts only
//! the datagrams it accepted (sendto succeeded), while udpSend hands out an id
//! for every queued datagram, including ones whose send then fails; so the
//! reader thread records "kernel key -> id" for each successful send and looks
//! stamps up here. Only used on the reader thread.

use std::collections::VecDeque;

/// Stamps not yet seen; beyond this the oldest mapping is forgotten (a NIC
/// that never stamps some datagrams must not grow this without bound).
const PENDING_LIMIT: usize = 1024;

pub struct TxIds {
    /// The key the kernel gives the next datagram it accepts.
    next_key: u32,
    /// (kernel key, user id) of sent datagrams whose stamp has not come back, oldest first.
    pending: VecDeque<(u32, u32)>,
}

impl TxIds {
    pub fn new() -> Self {
        TxIds { next_key: 0, pending: VecDeque::new() }
    }

    /// A datagram with user id `id` was accepted by the kernel.
    pub fn sent(&mut self, id: u32) {
        if self.pending.len() == PENDING_LIMIT {
            self.pending.pop_front();
        }
        self.pending.push_back((self.next_key, id));
        self.next_key = self.next_key.wrapping_add(1);
    }

    /// The user id of the stamp carrying kernel `key`, forgetting it; None if unknown.
    pub fn take(&mut self, key: u32) -> Option<u32> {
        let i = self.pending.iter().position(|&(k, _)| k == key)?;
        self.pending.remove(i).map(|(_, id)| id)
    }

    /// A software stamp with an unknown key arrived right after the send of `id`
    /// (the newest mapping): the kernel consumed a key for a send that failed
    /// after counting it (e.g. dropped by netfilter). Re-aligns the counter on
    /// `key` and returns `id`; None when `id` is not the newest pending send.
    pub fn realign(&mut self, key: u32, id: u32) -> Option<u32> {
        match self.pending.back() {
            Some(&(_, newest)) if newest == id => {
                self.pending.pop_back();
                self.next_key = key.wrapping_add(1);
                Some(id)
            }
            _ => None,
        }
    }
}
