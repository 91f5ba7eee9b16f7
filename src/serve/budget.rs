//! A memory budget shared by the requests in flight: a semaphore counted in
//! KiB. A request reserves what it will hold (its body, or its decoded image)
//! and gives it back when the [`Reservation`] is dropped.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// One unit of the budget.
const UNIT: usize = 1024;

/// Bytes that may be held at once.
#[derive(Clone)]
pub(crate) struct MemoryBudget {
    units: Arc<Semaphore>,
    total_units: u32,
}

/// Part of a budget, given back on drop.
pub(crate) struct Reservation {
    _permit: Option<OwnedSemaphorePermit>,
}

impl Reservation {
    /// A reservation of nothing, to grow with [`MemoryBudget::try_grow`].
    pub(crate) fn none() -> Self {
        Reservation { _permit: None }
    }
}

impl MemoryBudget {
    /// A budget of `bytes` (at least one unit, at most 4 TiB).
    pub(crate) fn new(bytes: usize) -> Self {
        let total_units = u32::try_from(bytes.div_ceil(UNIT))
            .unwrap_or(u32::MAX)
            .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize) as u32);
        MemoryBudget {
            units: Arc::new(Semaphore::new(total_units as usize)),
            total_units,
        }
    }

    /// The units `bytes` takes, never more than the whole budget (a request
    /// larger than the budget runs alone).
    fn units_for(&self, bytes: u64) -> u32 {
        let units = bytes.div_ceil(UNIT as u64);
        u32::try_from(units)
            .unwrap_or(u32::MAX)
            .min(self.total_units)
    }

    /// Reserves `bytes` now, or `None` when the budget has no room.
    pub(crate) fn try_reserve(&self, bytes: u64) -> Option<Reservation> {
        let units = self.units_for(bytes);
        if units == 0 {
            return Some(Reservation::none());
        }
        Arc::clone(&self.units)
            .try_acquire_many_owned(units)
            .ok()
            .map(|permit| Reservation {
                _permit: Some(permit),
            })
    }

    /// Reserves `bytes`, waiting (first come, first served) until there is room.
    pub(crate) async fn reserve(&self, bytes: u64) -> Reservation {
        let units = self.units_for(bytes);
        if units == 0 {
            return Reservation::none();
        }
        // The semaphore is never closed, so acquiring only waits.
        let permit = Arc::clone(&self.units).acquire_many_owned(units).await.ok();
        Reservation { _permit: permit }
    }

    /// Adds `bytes` to `held` if the budget has room now; false otherwise.
    pub(crate) fn try_grow(&self, held: &mut Reservation, bytes: u64) -> bool {
        let Some(more) = self.try_reserve(bytes) else {
            return false;
        };
        match (&mut held._permit, more._permit) {
            (Some(permit), Some(extra)) => permit.merge(extra),
            (slot @ None, extra) => *slot = extra,
            (Some(_), None) => {}
        }
        true
    }

    /// Bytes not reserved at the moment.
    #[cfg(test)]
    fn available(&self) -> usize {
        self.units.available_permits() * UNIT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_are_counted_and_given_back() {
        let budget = MemoryBudget::new(10 * UNIT);
        let a = budget.try_reserve(4 * UNIT as u64).unwrap();
        let mut b = budget.try_reserve(1).unwrap();
        assert_eq!(budget.available(), 5 * UNIT);
        assert!(budget.try_reserve(6 * UNIT as u64).is_none());
        assert!(budget.try_grow(&mut b, 5 * UNIT as u64));
        assert!(!budget.try_grow(&mut b, 1));
        assert_eq!(budget.available(), 0);
        drop(a);
        drop(b);
        assert_eq!(budget.available(), 10 * UNIT);
        // More than the whole budget takes the whole budget.
        let all = budget.try_reserve(u64::MAX).unwrap();
        assert_eq!(budget.available(), 0);
        drop(all);
        assert!(budget.try_reserve(0).is_some());
    }

    #[test]
    fn a_waiting_reservation_gets_its_turn() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let budget = MemoryBudget::new(2 * UNIT);
            let first = budget.reserve(2 * UNIT as u64).await;
            let waiter = {
                let budget = budget.clone();
                tokio::spawn(async move { budget.reserve(UNIT as u64).await })
            };
            tokio::task::yield_now().await;
            assert!(!waiter.is_finished());
            drop(first);
            let second = waiter.await.unwrap();
            assert_eq!(budget.available(), UNIT);
            drop(second);
        });
    }
}
