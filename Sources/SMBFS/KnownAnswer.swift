import Locking
import SMBClient

extension Filesystem {
    /// How long the server may stay silent before a question with a known answer is answered
    /// from what is known (a cut link is only declared dead after 2 × echo_interval).
    static let patience = Duration.milliseconds(500)

    /// Runs `query`, but answers `known` instead when there is one and the server is not
    /// answering: disconnected, or silent for `patience` while owing an answer (this query's
    /// or an earlier one's).
    /// statfs and stat of known files must never hang (`df`, desktops, shells call them); the
    /// query goes on in the background and its answer, if any, updates the caches.
    func answer<T: Sendable>(known: T?, _ query: @escaping @Sendable () async throws -> T) async throws -> T {
        guard let known else { return try await query() }
        if share.isUnresponsive(for: Self.patience) { return known }
        let race = Race<T>()
        let work = Task(executorPreference: share.executor) {
            do { race.finish(.success(try await query())) } catch { race.finish(.failure(error)) }
        }
        let share = self.share
        let watch = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                if share.isUnresponsive(for: Self.patience) { race.finish(.success(known)); return }
            }
        }
        let result = await race.result()
        watch.cancel()
        _ = work
        return try result.get()
    }
}

/// The first of several outcomes; later ones are dropped.
final class Race<T: Sendable>: Sendable {
    private struct State {
        var outcome: Result<T, Error>?
        var waiter: CheckedContinuation<Result<T, Error>, Never>?
    }
    private let state = Locked(State())

    func finish(_ r: Result<T, Error>) {
        let w = state.withLock { s -> CheckedContinuation<Result<T, Error>, Never>? in
            guard s.outcome == nil else { return nil }
            s.outcome = r
            let w = s.waiter
            s.waiter = nil
            return w
        }
        w?.resume(returning: r)
    }

    func result() async -> Result<T, Error> {
        await withCheckedContinuation { c in
            let r = state.withLock { s -> Result<T, Error>? in
                if let o = s.outcome { return o }
                s.waiter = c
                return nil
            }
            if let r { c.resume(returning: r) }
        }
    }
}
