/// WRITE request (MS-SMB2 2.2.21). The data follows the fixed part, at offset 64 + 48.
public struct WriteRequest: Sendable {
    public var fileId: FileId
    public var offset: UInt64
    public var data: ArraySlice<UInt8>
    /// SMB2_WRITEFLAG_WRITE_THROUGH (3.0.2+).
    public var writeThrough = false

    public init(fileId: FileId, offset: UInt64, data: ArraySlice<UInt8>) {
        self.fileId = fileId
        self.offset = offset
        self.data = data
    }

    public func encodeBody() -> [UInt8] {
        var w = encodeFixedPart(capacity: 48 + data.count)
        if data.isEmpty { w.u8(0) } else { w.bytes(data) }
        return w.bytes
    }

    /// The 48 bytes before the data, which the caller sends followed by `data` (so the data is
    /// copied once, into the frame); with no data, the one byte of Buffer the body must have.
    public func encodeHeaderPart() -> [UInt8] {
        var w = encodeFixedPart(capacity: 49)
        if data.isEmpty { w.u8(0) }
        return w.bytes
    }

    private func encodeFixedPart(capacity: Int) -> WireWriter {
        var w = WireWriter(capacity: capacity)
        w.u16(49)                                  // StructureSize
        w.u16(UInt16(Header.size + 48))            // DataOffset
        w.u32(UInt32(data.count))
        w.u64(offset)
        fileId.encode(into: &w)
        w.u32(0)                                   // Channel
        w.u32(0)                                   // RemainingBytes
        w.u16(0); w.u16(0)                         // WriteChannelInfoOffset/Length
        w.u32(writeThrough ? 1 : 0)                // Flags
        return w
    }
}

/// WRITE response (MS-SMB2 2.2.22).
public struct WriteResponse: Sendable {
    public var count: UInt32

    public static func decode(message m: [UInt8], requested: Int) throws -> WriteResponse {
        var r = WireReader(m, position: Header.size)
        let ss = try r.u16()
        guard ss == 17 else { throw ProtocolError.badStructureSize(command: "WRITE", got: ss) }
        try r.skip(2)
        let count = try r.u32()
        guard Int(count) <= requested else {
            throw ProtocolError.unexpected("WRITE: \(count) bytes reported for \(requested) sent")
        }
        return WriteResponse(count: count)
    }
}

/// FLUSH request (MS-SMB2 2.2.17); the response is StructureSize 4 (2.2.18).
public struct FlushRequest: Sendable {
    public var fileId: FileId
    public init(fileId: FileId) { self.fileId = fileId }

    public func encodeBody() -> [UInt8] {
        var w = WireWriter(capacity: 24)
        w.u16(24)
        w.u16(0); w.u32(0)                         // Reserved1, Reserved2
        fileId.encode(into: &w)
        return w.bytes
    }
}
