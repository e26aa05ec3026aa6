/// TREE_CONNECT request (MS-SMB2 2.2.9). The path is "\\server\share".
public struct TreeConnectRequest: Sendable {
    public var path: String
    public init(path: String) { self.path = path }

    public func encodeBody() -> [UInt8] {
        let name = UTF16LE.encode(path)
        var w = WireWriter(capacity: 8 + name.count)
        w.u16(9)                                   // StructureSize
        w.u16(0)                                   // Flags/Reserved
        w.u16(UInt16(Header.size + 8))             // PathOffset
        w.u16(UInt16(name.count))
        w.bytes(name)
        return w.bytes
    }
}

/// ShareType and ShareFlags of the TREE_CONNECT response (MS-SMB2 2.2.10).
public enum ShareType: UInt8, Sendable { case disk = 1, pipe = 2, print = 3 }

public struct ShareFlags: OptionSet, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let dfs = ShareFlags(rawValue: 0x0000_0001)
    public static let encryptData = ShareFlags(rawValue: 0x0000_8000)
}

public struct TreeConnectResponse: Sendable {
    /// Capabilities (2.2.10): the share is in a DFS namespace.
    public static let SMB2_SHARE_CAP_DFS: UInt32 = 0x0000_0008
    public var shareType: UInt8
    public var shareFlags: ShareFlags
    public var capabilities: UInt32
    public var maximalAccess: UInt32

    public static func decode(message m: [UInt8]) throws -> TreeConnectResponse {
        var r = WireReader(m, position: Header.size)
        let ss = try r.u16()
        guard ss == 16 else { throw ProtocolError.badStructureSize(command: "TREE_CONNECT", got: ss) }
        let type = try r.u8()
        try r.skip(1)
        return TreeConnectResponse(shareType: type, shareFlags: ShareFlags(rawValue: try r.u32()),
                                   capabilities: try r.u32(), maximalAccess: try r.u32())
    }
}
