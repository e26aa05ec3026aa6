import Locking
import Synchronization

/// Directory read-ahead for tree walks. A walker (find, du, rm -r, git status, cp -r) reads the
/// subdirectories of a directory one after another, each a round trip that waits for the one
/// before. When a directory is read, the next few subdirectories listed after it in its
/// parent are read too, in parallel, so the walker finds their listings ready. Read-ahead only
/// happens inside a parent whose listing is still held (its names are a hint, so an expired
/// one serves), stays a few directories ahead, and is bounded in flight; a listing read ahead
/// is kept like any other (and dropped by changes).
extension Filesystem {
    /// Subdirectories read ahead of each one read, and listings being read ahead at once.
    static let directoriesAhead = 4
    static let readAheadLimit = 8

    func readAhead(after path: String) {
        let ttl = listingTTL
        guard ttl > .zero, !path.isEmpty, path != options.rootPath else { return }
        let (parent, name) = Self.split(path)
        let next = listings.withLock {
            $0.directories(after: name, in: parent, now: .now, ttl: ttl, count: Self.directoriesAhead)
        }
        for e in next {
            let child = Self.join(parent, e.name)
            guard !isBeingRead(child) else { continue }
            guard readingAhead.add(1, ordering: .relaxed).newValue <= Self.readAheadLimit else {
                readingAhead.subtract(1, ordering: .relaxed)
                return
            }
            Task(executorPreference: share.executor) {
                defer { self.readingAhead.subtract(1, ordering: .relaxed) }
                _ = try? await self.loadDirectory(child, ino: e.attributes.ino, watch: false)
            }
        }
    }
}
