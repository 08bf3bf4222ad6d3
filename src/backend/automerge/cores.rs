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

/// Results a pipeline's worker may run ahead of the calling thread by.
const AHEAD: usize = 256;

/// `f` of every item, computed on the other cores while the calling thread hands each result
/// to `sink` in order: a batch's Automerge work overlaps its table writes instead of waiting
/// for them. Stops at the first error of `sink` (the workers stop at their next result).
pub fn pipeline<T: Send, R: Send, E>(
    items: Vec<T>,
    f: impl Fn(T) -> R + Sync,
    mut sink: impl FnMut(R) -> Result<(), E>,
) -> Result<(), E> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads == 1 || items.len() < PARALLEL_MIN {
        return items.into_iter().try_for_each(|item| sink(f(item)));
    }
    // Item i goes to worker i % workers, so taking one result from each in turn keeps the order.
    let workers = threads - 1;
    let mut shares: Vec<Vec<T>> = (0..workers).map(|_| Vec::new()).collect();
    let n = items.len();
    for (i, item) in items.into_iter().enumerate() {
        shares[i % workers].push(item);
    }
    let f = &f;
    std::thread::scope(|scope| {
        let results: Vec<_> = shares
            .into_iter()
            .map(|share| {
                let (tx, rx) = std::sync::mpsc::sync_channel(AHEAD);
                scope.spawn(move || share.into_iter().try_for_each(|item| tx.send(f(item))));
                rx
            })
            .collect();
        (0..n).try_for_each(|i| sink(results[i % workers].recv().expect("pipeline worker panicked")))
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

    #[test]
    fn a_pipeline_hands_results_over_in_order_and_stops_at_the_first_error() {
        let mut seen = Vec::new();
        let all = super::pipeline(
            (0..1000).collect(),
            |i: u32| i * 2,
            |r| {
                seen.push(r);
                Ok::<(), ()>(())
            },
        );
        assert_eq!((all, seen), (Ok(()), (0..1000).map(|i| i * 2).collect()));
        let mut taken = 0;
        let stopped = super::pipeline(
            (0..1000).collect(),
            |i: u32| i,
            |r| {
                taken += 1;
                if r == 500 { Err(r) } else { Ok(()) }
            },
        );
        assert_eq!((stopped, taken), (Err(500), 501));
    }
}
