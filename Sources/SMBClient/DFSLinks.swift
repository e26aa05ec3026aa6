import Locking
import SMBCrypto
import SMBProtocol

/// The links of a mounted DFS namespace this client has followed (MS-DFSC 3.1.1 ReferralCache,
/// link entries): where each link's path leads, on a connection of its own to the target's
/// server and share, until the referral's time to live runs out. A path no entry covers goes
/// to the namespace share; one that answers STATUS_PATH_NOT_COVERED there is resolved here.
final class DFSLinks: Sendable {
    struct Entry: Sendable {
        /// The link's path below the namespace share, lower-cased (names in a namespace
        /// compare without case, MS-DFSC 3.1.4.1 step 2).
        var prefix: [String]
        var link: ShareConnection
        /// Where the link leads below the target share.
        var targetPath: [String]
        var target: String
        var expires: ContinuousClock.Instant
    }

    let config: ClientConfiguration
    private let entryList = Locked<[Entry]>([])
    private let links = Locked<[ShareConnection]>([])
    private let breakHandler = LockedFunction<@Sendable ([FileId], LeaseState) async -> Void>()

    /// Links remembered at most; the one that expires first makes room.
    static let maxEntries = 1024

    init(config: ClientConfiguration) { self.config = config }

    /// The links followed, for status.
    var entries: [Entry] { entryList.withLock { $0 } }

    /// Every target connection, for status, keepalive and disconnect.
    var connections: [ShareConnection] { links.withLock { $0 } }

    func owner(of fid: FileId) -> ShareConnection? {
        links.withLock { $0.first { $0.idTag == fid.volatile } }
    }

    func onLeaseBreak(_ handler: @escaping @Sendable ([FileId], LeaseState) async -> Void) {
        breakHandler.set(handler)
        for l in connections { l.onLeaseBreak(handler) }
    }

    static func components(_ path: String) -> [String] { path.split(separator: "/").map(String.init) }

    /// The connection and path for `path` when a live entry covers it.
    func lookup(_ path: String, now: ContinuousClock.Instant = .now) -> (ShareConnection, String)? {
        let comps = Self.components(path)
        let lower = comps.map { $0.lowercased() }
        return entryList.withLock { es in
            guard let e = es.filter({ $0.expires > now && lower.starts(with: $0.prefix) })
                .max(by: { $0.prefix.count < $1.prefix.count }) else { return nil }
            return (e.link, (e.targetPath + comps.dropFirst(e.prefix.count)).joined(separator: "/"))
        }
    }

    /// Whether `path` is at or below a link followed, its referral run out or not: such a path
    /// is another server's, whatever the next referral says.
    func covers(_ path: String) -> Bool {
        let lower = Self.components(path).map { $0.lowercased() }
        return entryList.withLock { $0.contains { lower.starts(with: $0.prefix) } }
    }

    /// Follows the link `path` crosses (which the namespace server answered
    /// STATUS_PATH_NOT_COVERED for) to a connection to its target, remembers it for the
    /// referral's time to live, and answers where `path` is now.
    func resolve(_ path: String, via root: Share) async throws -> (ShareConnection, String) {
        guard let hop = try await root.followLink(path, config: config, connect: connection(to:)) else {
            throw SMBError.status(.pathNotCovered, .create)
        }
        let comps = Self.components(path)
        let prefix = comps.prefix(hop.depth).map { $0.lowercased() }
        let e = Entry(prefix: prefix, link: hop.value, targetPath: hop.targetPath, target: hop.entry.target,
                      expires: .now + .seconds(ttl(hop.entry)))
        entryList.withLock { es in
            es.removeAll { $0.prefix == prefix }
            if es.count >= Self.maxEntries, let i = es.indices.min(by: { es[$0].expires < es[$1].expires }) {
                es.remove(at: i)
            }
            es.append(e)
        }
        return (hop.value, (hop.targetPath + comps.dropFirst(hop.depth)).joined(separator: "/"))
    }

    /// How long a referral is kept (MS-DFSC 3.1.5.4.3: TimeToLive seconds; 300 for a V1
    /// entry, which has none), at least a second.
    private func ttl(_ entry: DFSReferralEntry) -> Int {
        let given = Int(entry.timeToLive ?? 300)
        return max(1, min(given, config.dfsTTLMax ?? given))
    }

    /// A connection to the share `c` names: one already open to it, or a new session.
    private func connection(to c: ClientConfiguration) async throws -> ShareConnection {
        let same = { (l: ShareConnection) in
            l.config.host.lowercased() == c.host.lowercased() && l.config.share.lowercased() == c.share.lowercased()
        }
        if let l = links.withLock({ $0.first(where: same) }) { return l }
        let guid = Random.bytes(16)
        let first = try await ShareConnection.establish(c, clientGuid: guid, generation: 1)
        let l = ShareConnection(config: c, clientGuid: guid, first: first)
        if let h = breakHandler.current { l.onLeaseBreak(h) }
        let kept = links.withLock { ls -> ShareConnection in
            if let other = ls.first(where: same) { return other }
            ls.append(l)
            return l
        }
        if kept !== l { l.close() }
        return kept
    }
}
