import Locking
import SMBProtocol

/// The entries a listing has handed on so far. A scan begun again (the connection was replaced
/// under it) hands on only names not given before, so a reader that already has the first
/// entries gets each unchanged entry exactly once, as readdir(3) promises.
final class GivenEntries: Sendable {
    private struct State {
        var all: [DirectoryEntry] = []
        var attempts = 0
        /// Names given, kept from the second attempt on.
        var names: Set<String>?
    }
    private let state = Locked(State())

    /// A scan starts (again).
    func startOver() {
        state.withLock { s in
            s.attempts += 1
            if s.attempts > 1, s.names == nil { s.names = Set(s.all.map(\.name)) }
        }
    }

    /// The entries of `batch` not given before, given now.
    func take(_ batch: [DirectoryEntry]) -> [DirectoryEntry] {
        state.withLock { s in
            guard s.names != nil else {
                s.all += batch
                return batch
            }
            var new: [DirectoryEntry] = []
            for e in batch where s.names!.insert(e.name).inserted { new.append(e) }
            s.all += new
            return new
        }
    }

    var all: [DirectoryEntry] { state.withLock { $0.all } }
}
