import SMBProtocol

/// A DFS referral's target (MS-DFSC 2.2.5 NetworkAddress): "\server\share[\path]".
public struct DFSTarget: Sendable, Equatable {
    public var server: String
    public var share: String
    /// Below the share, "/"-separated, "" for its root.
    public var path: String

    public init(server: String, share: String, path: String) {
        self.server = server
        self.share = share
        self.path = path
    }

    /// Nil for anything that is not at least "\server\share" (MS-DFSC 2.2.1.3: each component
    /// one character or more).
    public init?(_ networkAddress: String) {
        let parts = networkAddress.split(separator: "\\", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty,
              !parts[3...].contains(where: \.isEmpty) else { return nil }
        server = String(parts[1])
        share = String(parts[2])
        path = parts[3...].joined(separator: "/")
    }
}

extension Share {
    /// Whether the tree is in a DFS namespace (SMB2_SHARE_CAP_DFS): paths below it may be links.
    public var inDFS: Bool { link.current?.inDFS ?? false }

    /// Whether `path` is served through a DFS link followed (by another server and share).
    public func isBelowDFSLink(_ path: String) -> Bool { dfs?.covers(path) ?? false }

    /// FSCTL_DFS_GET_REFERRALS (MS-DFSC 3.1.4.2, sent as MS-SMB2 3.2.4.20.3 says: IOCTL with
    /// FileId all ones, on a tree of this server's session) for `path` in its wire form
    /// "\server\share\...". The buffer starts at 8 KiB and doubles on STATUS_BUFFER_OVERFLOW
    /// (3.1.5.4: a server that cannot fit one entry says so) up to 64 KiB; an overflowing
    /// answer is never parsed (a truncated one is all some servers send with it).
    public func referral(for path: String) async throws -> DFSReferralResponse {
        var size = 8192
        while true {
            let ask = size
            let r = try await call(.ioctl, allowing: [.bufferOverflow]) { _ in
                IoctlRequest(ctlCode: DFSReferral.FSCTL_DFS_GET_REFERRALS, fileId: .related,
                             input: DFSReferral.request(path: path), maxOutputResponse: UInt32(ask)).encodeBody()
            }
            if r.header.status == .bufferOverflow {
                guard size < 65536 else { throw SMBError.malformed("DFS referral for \(path) larger than 64 KiB") }
                size *= 2
                continue
            }
            let out = try decode("IOCTL") { try IoctlResponse.decode(message: r.message, maxOutputResponse: UInt32(ask)).output }
            let referral = try decode("DFS referral") { try DFSReferralResponse.decode(out) }
            guard referral.pathConsumed <= path.utf16.count * 2 else {
                throw SMBError.malformed("DFS referral consumed \(referral.pathConsumed) bytes of a \(path.utf16.count * 2)-byte path")
            }
            return referral
        }
    }

    /// The part of `path` (wire form) after the first `consumed` bytes of its UTF-16 form
    /// (RESP_GET_DFS_REFERRAL PathConsumed, MS-DFSC 2.2.4), "/"-separated; nil when the cut
    /// is not at a component boundary.
    static func remainder(of path: String, consumed: Int) -> String? {
        let units = Array(path.utf16)
        guard consumed % 2 == 0, consumed / 2 <= units.count else { return nil }
        let rest = units[(consumed / 2)...]
        guard rest.isEmpty || rest.first == UInt16(UInt8(ascii: "\\")) else { return nil }
        guard let s = String(validating: rest, as: UTF16.self) else { return nil }
        return s.split(separator: "\\").joined(separator: "/")
    }
}

/// One DFS link crossed (MS-DFSC 3.1.4.1 steps 6-8): what the target's `connect` gave, how
/// many names of the path the link's own path took, the target's path, and the referral entry.
struct LinkHop<T> {
    let value: T
    let depth: Int
    let targetPath: [String]
    let entry: DFSReferralEntry
}

extension Share {
    /// Links followed at most while resolving one mount path (a link to a namespace whose path
    /// is a link again, MS-DFSC 3.1.4.1 step 11): a loop between namespaces ends here.
    static let maxLinkHops = 8

    /// Statuses a namespace server answers a referral for a path below no link with.
    static let notALink: Set<NTStatus> = [.objectPathNotFound, .objectNameNotFound, .notFound]

    /// Asks this namespace share's server for the referral of `path` ("/"-separated, below the
    /// share `config` names) and connects to the link's first target that `connect` accepts
    /// (MS-DFSC 3.1.5.2: the server's order, the next on failure), with the namespace's
    /// credentials, signed, and sealed when this session is. Nil for a root referral: the path
    /// is served here. A referral with no target is STATUS_OBJECT_PATH_NOT_FOUND (3.1.5.4.3).
    func followLink<T>(_ path: String, config: ClientConfiguration,
                       connect: (ClientConfiguration) async throws -> T) async throws -> LinkHop<T>? {
        let comps = DFSLinks.components(path)
        let wire = "\\" + config.host + "\\" + config.share + (comps.isEmpty ? "" : "\\" + wireName(path))
        let referral = try await self.referral(for: wire)
        guard !referral.entries.isEmpty else { throw SMBError.status(.objectPathNotFound, .ioctl) }
        guard let rest = Self.remainder(of: wire, consumed: referral.pathConsumed) else {
            throw SMBError.malformed("DFS referral for \(wire) ends inside a name (PathConsumed \(referral.pathConsumed))")
        }
        let depth = comps.count - DFSLinks.components(rest).count
        guard depth >= 1 else { return nil }
        let link = comps.prefix(depth).joined(separator: "/")
        var lastError: Error = SMBError.connectFailed("DFS link \(link) has no usable target")
        for entry in referral.entries {
            guard let t = DFSTarget(entry.target) else { continue }
            var c = config
            c.host = t.server
            c.share = t.share
            c.address = nil                         // ip= pins the namespace server only
            c.seal = config.seal || encryption != nil
            do {
                let value = try await connect(c)
                config.logger.info("DFS link followed", metadata: ["link": "\(link)", "target": "\(entry.target)"])
                return LinkHop(value: value, depth: depth, targetPath: DFSLinks.components(t.path).map(names.local),
                               entry: entry)
            } catch {
                config.logger.warning("DFS target unreachable; trying the next",
                                      metadata: ["target": "\(entry.target)", "error": "\(error)"])
                lastError = error
            }
        }
        throw lastError
    }

    /// Connects to the share that holds `path` ("/"-separated, below `config`'s share): that
    /// share itself, or, when the path crosses a DFS link, the link's first target that
    /// accepts the session, and the path there. `config.dfs` off, a share not in a namespace,
    /// or a path no link covers: the share as asked.
    public static func connect(_ config: ClientConfiguration, below path: String) async throws -> (share: Share, path: String) {
        var config = config, path = path
        var share = try await connect(config)
        for _ in 0..<maxLinkHops {
            guard config.dfs, share.inDFS, !path.isEmpty else { return (share, path) }
            let hop: LinkHop<(Share, ClientConfiguration)>?
            do {
                hop = try await share.followLink(path, config: config) { c in (try await connect(c), c) }
            } catch SMBError.status(let s, _) where notALink.contains(s) {
                return (share, path)
            } catch {
                await share.disconnect()
                throw error
            }
            guard let hop else { return (share, path) }
            await share.disconnect()
            let there = hop.targetPath + DFSLinks.components(path).dropFirst(hop.depth)
            (share, config, path) = (hop.value.0, hop.value.1, there.joined(separator: "/"))
        }
        await share.disconnect()
        throw SMBError.connectFailed("more than \(maxLinkHops) DFS links on the way to \(path)")
    }
}
