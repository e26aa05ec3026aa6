import Locking

/// An open directory's entries as its listing is read: readdir answers from the entries that
/// have come while the rest are on their way, so a long directory's first entries reach the
/// kernel (and `ls`, `find`) after one response, not after the last. Offsets index the order
/// entries came in, which never changes: a snapshot, as when the listing was read whole.
final class ListingFeed: Sendable {
    private struct State {
        var entries: [Filesystem.Entry] = []
        var done = false
        var failure: (any Error)?
        /// Readers waiting for an entry at an offset not read yet.
        var waiting: [(offset: Int, continuation: CheckedContinuation<ArraySlice<Filesystem.Entry>, any Error>)] = []
    }
    private let state = Locked(State())

    /// Entries from `offset` on: at least one, unless the listing is complete and has none
    /// there (the end). Waits for them while the listing is being read.
    func entries(from offset: Int) async throws -> ArraySlice<Filesystem.Entry> {
        try await withCheckedThrowingContinuation { c in
            let ready = state.withLock { s -> Result<ArraySlice<Filesystem.Entry>, any Error>? in
                if offset < s.entries.count { return .success(s.entries[offset...]) }
                if let f = s.failure { return .failure(f) }
                if s.done { return .success([]) }
                s.waiting.append((offset, c))
                return nil
            }
            if let ready { c.resume(with: ready) }
        }
    }

    /// More entries came.
    func append(_ more: [Filesystem.Entry]) {
        guard !more.isEmpty else { return }
        let wake = state.withLock { s in
            s.entries += more
            return Self.wake(&s, all: false)
        }
        for (c, slice) in wake { c.resume(returning: slice) }
    }

    /// The listing is complete: `all` is every entry, those appended first.
    func finish(_ all: [Filesystem.Entry]) {
        let wake = state.withLock { s in
            if all.count > s.entries.count { s.entries += all[s.entries.count...] }
            s.done = true
            return Self.wake(&s, all: true)
        }
        for (c, slice) in wake { c.resume(returning: slice) }
    }

    /// The listing could not be read to its end: readers past what came get `error`.
    func fail(_ error: any Error) {
        let waiting = state.withLock { s in
            s.failure = error
            defer { s.waiting = [] }
            return s.waiting
        }
        for w in waiting { w.continuation.resume(throwing: error) }
    }

    /// All entries appended so far.
    var all: [Filesystem.Entry] { state.withLock { $0.entries } }

    /// The readers to wake with their entries: those an entry came for, or `all` of them.
    private static func wake(_ s: inout State, all: Bool)
        -> [(CheckedContinuation<ArraySlice<Filesystem.Entry>, any Error>, ArraySlice<Filesystem.Entry>)] {
        let entries = s.entries
        var out: [(CheckedContinuation<ArraySlice<Filesystem.Entry>, any Error>, ArraySlice<Filesystem.Entry>)] = []
        var still: [(offset: Int, continuation: CheckedContinuation<ArraySlice<Filesystem.Entry>, any Error>)] = []
        for w in s.waiting {
            if w.offset < entries.count {
                out.append((w.continuation, entries[w.offset...]))
            } else if all {
                out.append((w.continuation, []))
            } else {
                still.append(w)
            }
        }
        s.waiting = still
        return out
    }
}
