import Dispatch
import Foundation

/// How much of the machine one process may use. `MAMQ_THREADS=1` in the environment makes
/// every parallel loop run on the calling thread: batch mode runs one case per core this way,
/// which scales better than splitting each case over the cores.
public enum Parallelism {
    public static let singleThreaded = ProcessInfo.processInfo.environment["MAMQ_THREADS"] == "1"
}

/// Splits `0..<count` into at most `parallelChunks` chunks and runs them in parallel.
/// `body` must only write to the part of shared memory that belongs to its range.
///
/// The chunks are the same however many threads run them (one with `MAMQ_THREADS=1`), so a
/// body whose result depends on where its range starts (a running hint, a partial sum) gives
/// the same figures in a batch worker as in a single run.
public func concurrentChunks(_ count: Int, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let chunks = min(count, parallelChunks)
    @Sendable func range(_ c: Int) -> Range<Int> { (count * c / chunks)..<(count * (c + 1) / chunks) }
    if Parallelism.singleThreaded {
        for c in 0..<chunks { body(range(c)) }
        return
    }
    withoutActuallyEscaping(body) { body in
        let task = DisjointWork(body: body)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in task.body(range(c)) }
    }
}

/// Chunks per parallel loop: enough for balance on the machines we run on (several per core
/// up to 16 cores), and fixed, so that results do not depend on the core count.
let parallelChunks = 64

/// Work whose parallel calls touch disjoint memory, which the compiler cannot see.
private struct DisjointWork: @unchecked Sendable {
    let body: (Range<Int>) -> Void
}



/// Runs `a` and `b` at the same time (one after the other with `MAMQ_THREADS=1`). Each may
/// use `concurrentChunks` itself; running them side by side fills the cores during the
/// serial parts of either.
public func concurrently(_ a: () -> Void, _ b: () -> Void) {
    if Parallelism.singleThreaded {
        a()
        b()
        return
    }
    // `b` on a thread of its own, `a` on this one: unlike two iterations of one
    // concurrentPerform, the parallel loops inside each can then use every core the other
    // leaves idle; and unlike a block on the shared pool, `b` starts even when every pool
    // thread is busy (say, waiting in another `concurrently`).
    withoutActuallyEscaping(b) { b in
        let work = HandedOver(b)
        Thread {
            work.body?()
            // Let go of `b` before saying so: it must not outlive this call.
            work.body = nil
            work.done.signal()
        }.start()
        a()
        work.done.wait()
    }
}

/// A closure handed to another thread, which touches memory the caller's own work does not
/// (the compiler cannot see that), and the signal that it is done and let go of.
private final class HandedOver: @unchecked Sendable {
    var body: (() -> Void)?
    let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping () -> Void) {
        self.body = body
    }
}

/// `produce(k)` for every k in 0..<count, in parallel, the results joined in order of k
/// (slice by slice through a volume, say).
@inlinable
public func concurrentFlatMap<T>(_ count: Int, _ produce: (Int) -> [T]) -> [T] {
    var parts = [[T]](repeating: [], count: count)
    parts.withUnsafeMutableBufferPointer { out in
        let out = out.baseAddress!
        concurrentChunks(count) { range in
            for k in range { out[k] = produce(k) }
        }
    }
    // Sized once and filled part by part: `Array(parts.joined())` grows its buffer by
    // doubling, copying what it holds each time, element by element.
    var joined: [T] = []
    joined.reserveCapacity(parts.reduce(0) { $0 + $1.count })
    for part in parts { joined.append(contentsOf: part) }
    return joined
}

/// `transform` applied to every element, in parallel, results in order.
@inlinable
public func concurrentMap<T, R>(_ values: [T], _ transform: (T) -> R) -> [R] {
    guard !values.isEmpty else { return [] }
    var results = [R?](repeating: nil, count: values.count)
    results.withUnsafeMutableBufferPointer { out in
        let out = out.baseAddress!
        values.withUnsafeBufferPointer { input in
            let input = input.baseAddress!
            concurrentChunks(values.count) { range in
                for i in range { out[i] = transform(input[i]) }
            }
        }
    }
    return results.map { $0! }
}
