//! Spreading CPU-bound work (Automerge loading and encoding) over every core, for batches
//! large enough to pay for the threads.

/// Batches smaller than this run on the calling thread.
const PARALLEL_MIN: usize = 64;

/// `f` of every item, in order, computed on as many threads as there are cores.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads == 1 || items.len() < PARALLEL_MIN {
        return items.iter().map(f).collect();
    }
    let f = &f;
    let mut chunks = items.chunks(items.len().div_ceil(threads));
    let first = chunks.next().expect("at least one item");
    std::thread::scope(|scope| {
        // The calling thread takes the first chunk: one thread fewer to start, and to leave
        // its allocator pages behind when it ends.
        let workers: Vec<_> =
            chunks.map(|chunk| scope.spawn(move || chunk.iter().map(f).collect::<Vec<R>>())).collect();
        let mut results: Vec<R> = first.iter().map(f).collect();
        results.extend(workers.into_iter().flat_map(|w| w.join().expect("worker panicked")));
        results
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_the_order_of_the_items() {
        let items: Vec<u32> = (0..1000).collect();
        assert_eq!(super::map(&items, |i| i * 2), items.iter().map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(super::map(&items[..3], |i| i + 1), vec![1, 2, 3]);
    }
}
