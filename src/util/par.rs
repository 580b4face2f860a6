//! A parallel map over a slice on a few scoped threads (catalogue loading, its cache).

/// `f` over `items` on up to 8 threads (this one included), results in the order of `items`.
/// Threads take small batches from a shared counter, so one slow file or a busy core does not
/// leave the other threads idle at the end (fixed halves gave 1.4× on 2 cores).
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    const BATCH: usize = 4;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    if workers == 1 || items.len() < 16 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let start = next.fetch_add(BATCH, std::sync::atomic::Ordering::Relaxed);
            if start >= items.len() {
                return done;
            }
            done.extend(items[start..(start + BATCH).min(items.len())].iter().enumerate().map(|(i, item)| (start + i, f(item))));
        }
    };
    let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
        let mut all = work();
        // A panicking thread is a bug: its items are then done again on this thread below, so
        // their errors (or the panic) surface as they would without threads.
        all.extend(helpers.into_iter().flat_map(|h| h.join().unwrap_or_default()));
        for (i, r) in all {
            slots[i] = Some(r);
        }
    });
    slots.into_iter().zip(items).map(|(slot, item)| slot.unwrap_or_else(|| f(item))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn par_map_keeps_the_order_and_calls_once_per_item() {
        let items: Vec<u64> = (0..1003).collect();
        let calls = AtomicUsize::new(0);
        let out = par_map(&items, |&i| {
            calls.fetch_add(1, Ordering::Relaxed);
            // Uneven work, so batches finish out of order.
            if i % 7 == 0 {
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
            i * 2
        });
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(calls.load(Ordering::Relaxed), items.len());
    }
}
