import SMBClient
import Synchronization

/// What the metadata caches answered from memory and what they asked the server, for
/// `smb3fs status`. Counted where the answer is decided; relaxed atomics (a report, not a
/// synchronisation).
final class CacheCounters: Sendable {
    let attributeHits = Atomic<Int>(0)
    let attributeFetches = Atomic<Int>(0)
    let listingHits = Atomic<Int>(0)
    let listingReads = Atomic<Int>(0)
    let lookupHits = Atomic<Int>(0)
    let lookupFetches = Atomic<Int>(0)
    let readAheadHits = Atomic<Int>(0)
    let reads = Atomic<Int>(0)
    let openHits = Atomic<Int>(0)
    let opens = Atomic<Int>(0)

    static func bump(_ a: borrowing Atomic<Int>) { a.add(1, ordering: .relaxed) }
}

/// A mount's state: the share's, and the filesystem's own (handles, writes behind, caches).
public struct FilesystemStatus: Sendable, Codable, Equatable {
    public struct Cache: Sendable, Codable, Equatable {
        /// Answered from memory.
        public var hits: Int
        /// Asked of the server.
        public var misses: Int
    }

    public var share: ShareStatus
    public var openFiles: Int
    public var openDirectories: Int
    public var inodes: Int
    public var writeBehindBytes: Int
    public var readAheadBytes: Int
    /// By kind: attributes, listings, lookups, reads (read ahead or not), opens (an open kept
    /// after its close taken back, or a CREATE).
    public var cache: [String: Cache]
    /// Where the modes and owners shown come from.
    public var modes: String
    /// Who checks access: "kernel" (perm) or "server" (noperm).
    public var permissions: String
}

extension Filesystem {
    public func status() async -> FilesystemStatus {
        let c = counters
        func cache(_ hits: borrowing Atomic<Int>, _ misses: borrowing Atomic<Int>) -> FilesystemStatus.Cache {
            .init(hits: hits.load(ordering: .relaxed), misses: misses.load(ordering: .relaxed))
        }
        let (files, directories) = handles.withLock { ($0.files.count, $0.directories.count) }
        return FilesystemStatus(
            share: share.status, openFiles: files, openDirectories: directories,
            inodes: inodes.withLock { $0.count }, writeBehindBytes: await writeBehind?.bytesInFlight ?? 0,
            readAheadBytes: readAheadBytes.load(ordering: .relaxed),
            cache: ["attributes": cache(c.attributeHits, c.attributeFetches),
                    "listings": cache(c.listingHits, c.listingReads),
                    "lookups": cache(c.lookupHits, c.lookupFetches),
                    "reads": cache(c.readAheadHits, c.reads),
                    "opens": cache(c.openHits, c.opens)],
            modes: options.ownership.source, permissions: options.checkPermissions ? "kernel" : "server")
    }
}
