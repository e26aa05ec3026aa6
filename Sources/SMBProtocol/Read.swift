/// READ request (MS-SMB2 2.2.19).
public struct ReadRequest: Sendable {
    public var fileId: FileId
    public var offset: UInt64
    public var length: UInt32
    public var minimumCount: UInt32 = 0

    public init(fileId: FileId, offset: UInt64, length: UInt32) {
        self.fileId = fileId
        self.offset = offset
        self.length = length
    }

    public func encodeBody() -> [UInt8] {
        var w = WireWriter(capacity: 49)
        w.u16(49)                               // StructureSize
        w.u8(0x50)                              // Padding: data placed right after the response header + body
        w.u8(0)                                 // Flags
        w.u32(length)
        w.u64(offset)
        fileId.encode(into: &w)
        w.u32(minimumCount)
        w.u32(0)                                // Channel: SMB2_CHANNEL_NONE
        w.u32(0)                                // RemainingBytes
        w.u16(0); w.u16(0)                      // ReadChannelInfoOffset/Length
        w.u8(0)                                 // Buffer: one byte (2.2.19)
        return w.bytes
    }
}

/// READ response (MS-SMB2 2.2.20). The data is returned as a range of the message
/// so large reads are not copied before they reach the caller.
public struct ReadResponse: Sendable {
    public var dataRange: Range<Int>
    public var dataRemaining: UInt32

    public static func decode(message m: [UInt8], requested: UInt32) throws -> ReadResponse {
        var r = WireReader(m, position: Header.size)
        let ss = try r.u16()
        guard ss == 17 else { throw ProtocolError.badStructureSize(command: "READ", got: ss) }
        let dataOffset = Int(try r.u8())
        try r.skip(1)
        let dataLength = Int(try r.u32())
        let remaining = try r.u32()
        guard dataLength <= Int(requested) else {
            throw ProtocolError.unexpected("READ: \(dataLength) bytes returned for \(requested) requested")
        }
        guard dataLength == 0 || (dataOffset >= Header.size + 16 && dataOffset <= m.count && dataLength <= m.count - dataOffset) else {
            throw ProtocolError.badOffset(dataOffset)
        }
        let start = dataLength == 0 ? m.count : dataOffset
        return ReadResponse(dataRange: start..<(start + dataLength), dataRemaining: remaining)
    }
}
