/// FSCTL control codes this client sends (MS-SMB2 2.2.31 CtlCode, MS-FSCC 2.3).
public enum FSCTL {
    /// MS-SMB2 2.2.31; output: SRV_REQUEST_RESUME_KEY (2.2.32.3).
    public static let FSCTL_SRV_REQUEST_RESUME_KEY: UInt32 = 0x0014_0078
    /// MS-SMB2 2.2.31; input SRV_COPYCHUNK_COPY (2.2.31.1), output SRV_COPYCHUNK_RESPONSE (2.2.32.1).
    /// The _WRITE variant needs only write access to the target (FSCTL_SRV_COPYCHUNK, 0x001440F2,
    /// also needs read access).
    public static let FSCTL_SRV_COPYCHUNK_WRITE: UInt32 = 0x0014_80F2
    public static let FSCTL_SRV_COPYCHUNK: UInt32 = 0x0014_40F2
    /// MS-FSCC 2.3.67; input FILE_ZERO_DATA_INFORMATION.
    public static let FSCTL_SET_ZERO_DATA: UInt32 = 0x0009_80C8
    /// MS-FSCC 2.3.32; input and output FILE_ALLOCATED_RANGE_BUFFER (2.3.33).
    public static let FSCTL_QUERY_ALLOCATED_RANGES: UInt32 = 0x0009_40CF
    /// MS-FSCC 2.3.64; input optional FILE_SET_SPARSE_BUFFER (one byte, SetSparse).
    public static let FSCTL_SET_SPARSE: UInt32 = 0x0009_00C4
    /// MS-FSCC 2.3.29; output a REPARSE_DATA_BUFFER (2.1.2.2).
    public static let FSCTL_GET_REPARSE_POINT: UInt32 = 0x0009_00A8
    /// MS-FSCC 2.3.65; input a REPARSE_DATA_BUFFER (2.1.2.2).
    public static let FSCTL_SET_REPARSE_POINT: UInt32 = 0x0009_00A4
    /// MS-SMB2 2.2.31.4 / 2.2.32.6; sent with FileId 0xFFFFFFFFFFFFFFFF:0xFFFFFFFFFFFFFFFF.
    public static let FSCTL_VALIDATE_NEGOTIATE_INFO: UInt32 = 0x0014_0204
    /// MS-FSCC 2.3.53: writes the input to a named pipe and reads one message back (MS-SMB2
    /// 3.2.4.20.4); a message larger than the output asked for comes with
    /// STATUS_BUFFER_OVERFLOW, the rest by READ.
    public static let FSCTL_PIPE_TRANSCEIVE: UInt32 = 0x0011_C017
}

/// IOCTL request (MS-SMB2 2.2.31). The input buffer follows the 56-byte fixed part, at
/// offset 64 + 56 from the header start.
public struct IoctlRequest: Sendable {
    /// SMB2_0_IOCTL_IS_FSCTL (2.2.31 Flags). Servers fail requests without it (3.3.5.15).
    public static let SMB2_0_IOCTL_IS_FSCTL: UInt32 = 0x0000_0001
    static let fixedSize = 56

    public var ctlCode: UInt32
    public var fileId: FileId
    public var input: [UInt8]
    public var maxInputResponse: UInt32 = 0
    public var maxOutputResponse: UInt32
    public var flags: UInt32 = IoctlRequest.SMB2_0_IOCTL_IS_FSCTL

    public init(ctlCode: UInt32, fileId: FileId, input: [UInt8] = [], maxOutputResponse: UInt32) {
        self.ctlCode = ctlCode
        self.fileId = fileId
        self.input = input
        self.maxOutputResponse = maxOutputResponse
    }

    public func encodeBody() -> [UInt8] {
        var w = WireWriter(capacity: Self.fixedSize + max(input.count, 1))
        w.u16(57)                                  // StructureSize
        w.u16(0)                                   // Reserved
        w.u32(ctlCode)
        fileId.encode(into: &w)
        // InputOffset: 0 when there is no input (2.2.31: "SHOULD be set to 0").
        w.u32(input.isEmpty ? 0 : UInt32(Header.size + Self.fixedSize))
        w.u32(UInt32(input.count))                 // InputCount
        w.u32(maxInputResponse)
        w.u32(0)                                   // OutputOffset: the client sends no output buffer
        w.u32(0)                                   // OutputCount
        w.u32(maxOutputResponse)
        w.u32(flags)
        w.u32(0)                                   // Reserved2
        if input.isEmpty { w.u8(0) } else { w.bytes(input) }   // Buffer: at least one byte
        return w.bytes
    }
}

/// IOCTL response (MS-SMB2 2.2.32). Note that a server answers a COPYCHUNK it cannot do within
/// its limits with STATUS_INVALID_PARAMETER *and* this response (not an ERROR response),
/// carrying its limits in SRV_COPYCHUNK_RESPONSE (3.3.5.15.6.2); decode it whenever the body's
/// StructureSize is 49.
public struct IoctlResponse: Sendable, Equatable {
    public var ctlCode: UInt32
    public var fileId: FileId
    public var flags: UInt32
    /// The output buffer (OutputCount bytes at OutputOffset), copied out of the message.
    public var output: [UInt8]

    /// `maxOutputResponse` is what the request asked for; more output than that is an error.
    public static func decode(message m: [UInt8], at offset: Int = Header.size, maxOutputResponse: UInt32) throws -> IoctlResponse {
        var r = WireReader(m, position: offset)
        let ss = try r.u16()
        guard ss == 49 else { throw ProtocolError.badStructureSize(command: "IOCTL", got: ss) }
        try r.skip(2)                              // Reserved
        let ctl = try r.u32()
        let fid = try FileId.decode(&r)
        try r.skip(8)                              // InputOffset, InputCount: the client ignores them
        let outOffset = Int(try r.u32())
        let outCount = try r.u32()
        let flags = try r.u32()
        try r.skip(4)                              // Reserved2
        guard outCount <= maxOutputResponse else {
            throw ProtocolError.unexpected("IOCTL: \(outCount) output bytes returned, at most \(maxOutputResponse) allowed")
        }
        var output: [UInt8] = []
        if outCount > 0 {
            // Offsets are from the start of this message's header; the output can't start
            // inside the header or the fixed part of the response.
            let headerStart = offset - Header.size
            guard outOffset >= Header.size + 48 else { throw ProtocolError.badOffset(outOffset) }
            output = try r.slice(offset: headerStart + outOffset, length: Int(outCount))
        }
        return IoctlResponse(ctlCode: ctl, fileId: fid, flags: flags, output: output)
    }
}

/// SRV_REQUEST_RESUME_KEY response (MS-SMB2 2.2.32.3): the output of FSCTL_SRV_REQUEST_RESUME_KEY.
public struct SRV_REQUEST_RESUME_KEY: Sendable, Equatable {
    public static let resumeKeySize = 24
    /// ContextLength larger than this is rejected; servers send 0 (the Context is reserved).
    public static let maxContextLength = 1024

    public var resumeKey: [UInt8]
    public var context: [UInt8]

    public static func decode(_ b: [UInt8]) throws -> SRV_REQUEST_RESUME_KEY {
        var r = WireReader(b)
        let key = try r.read(resumeKeySize)
        let contextLength = Int(try r.u32())
        guard contextLength <= maxContextLength else { throw ProtocolError.badOffset(contextLength) }
        // Windows pads the 28 bytes to 32; trailing bytes beyond ContextLength are ignored.
        let context = try r.read(contextLength)
        return SRV_REQUEST_RESUME_KEY(resumeKey: key, context: context)
    }
}

/// SRV_COPYCHUNK (MS-SMB2 2.2.31.1.1): 24 bytes.
public struct SRV_COPYCHUNK: Sendable, Equatable {
    public static let size = 24
    public var sourceOffset: UInt64
    public var targetOffset: UInt64
    public var length: UInt32

    public init(sourceOffset: UInt64, targetOffset: UInt64, length: UInt32) {
        self.sourceOffset = sourceOffset
        self.targetOffset = targetOffset
        self.length = length
    }
}

/// SRV_COPYCHUNK_COPY (MS-SMB2 2.2.31.1): the input of FSCTL_SRV_COPYCHUNK(_WRITE).
public struct SRV_COPYCHUNK_COPY: Sendable, Equatable {
    /// Server defaults of MS-SMB2 3.3.3 (ServerSideCopyMaxNumberofChunks, ServerSideCopyMaxChunkSize,
    /// ServerSideCopyMaxDataSize); Samba uses the same. A server that allows less answers
    /// STATUS_INVALID_PARAMETER with its own limits in SRV_COPYCHUNK_RESPONSE (3.3.5.15.6.2).
    public static let maxChunkCount = 256
    public static let maxChunkSize: UInt32 = 1 << 20
    public static let maxDataSize: UInt64 = 16 << 20

    public var sourceKey: [UInt8]
    public var chunks: [SRV_COPYCHUNK]

    public init(sourceKey: [UInt8], chunks: [SRV_COPYCHUNK]) {
        self.sourceKey = sourceKey
        self.chunks = chunks
    }

    /// Throws when the key is not 24 bytes, or the chunks exceed the 3.3.3 default limits
    /// (each chunk 1...1 MiB, at most 256 chunks, at most 16 MiB in all).
    public func encode() throws -> [UInt8] {
        guard sourceKey.count == SRV_REQUEST_RESUME_KEY.resumeKeySize else {
            throw EncodingError("SRV_COPYCHUNK_COPY: SourceKey must be 24 bytes")
        }
        guard !chunks.isEmpty, chunks.count <= Self.maxChunkCount else {
            throw EncodingError("SRV_COPYCHUNK_COPY: ChunkCount must be 1...\(Self.maxChunkCount)")
        }
        var total: UInt64 = 0
        for c in chunks {
            guard c.length > 0, c.length <= Self.maxChunkSize else {
                throw EncodingError("SRV_COPYCHUNK_COPY: chunk Length must be 1...\(Self.maxChunkSize)")
            }
            total += UInt64(c.length)
        }
        guard total <= Self.maxDataSize else { throw EncodingError("SRV_COPYCHUNK_COPY: more than \(Self.maxDataSize) bytes") }
        var w = WireWriter(capacity: 32 + SRV_COPYCHUNK.size * chunks.count)
        w.bytes(sourceKey)
        w.u32(UInt32(chunks.count))                // ChunkCount
        w.u32(0)                                   // Reserved
        for c in chunks {
            w.u64(c.sourceOffset)
            w.u64(c.targetOffset)
            w.u32(c.length)
            w.u32(0)                               // Reserved
        }
        return w.bytes
    }
}

/// SRV_COPYCHUNK_RESPONSE (MS-SMB2 2.2.32.1). On STATUS_SUCCESS the fields count what was
/// copied; on STATUS_INVALID_PARAMETER they are the server's limits: ChunksWritten is
/// the maximum chunk count, ChunkBytesWritten the maximum chunk size, TotalBytesWritten the
/// maximum total size (3.3.5.15.6.2).
public struct SRV_COPYCHUNK_RESPONSE: Sendable, Equatable {
    public static let size = 12
    public var chunksWritten: UInt32
    public var chunkBytesWritten: UInt32
    public var totalBytesWritten: UInt32

    public init(chunksWritten: UInt32, chunkBytesWritten: UInt32, totalBytesWritten: UInt32) {
        self.chunksWritten = chunksWritten
        self.chunkBytesWritten = chunkBytesWritten
        self.totalBytesWritten = totalBytesWritten
    }

    public static func decode(_ b: [UInt8]) throws -> SRV_COPYCHUNK_RESPONSE {
        var r = WireReader(b)
        return SRV_COPYCHUNK_RESPONSE(chunksWritten: try r.u32(), chunkBytesWritten: try r.u32(),
                                      totalBytesWritten: try r.u32())
    }
}

/// FILE_ZERO_DATA_INFORMATION (MS-FSCC 2.3.67 FSCTL_SET_ZERO_DATA input): zero the bytes in
/// [FileOffset, BeyondFinalZero). Both are signed 64-bit on the wire; the range must not be reversed.
public struct FILE_ZERO_DATA_INFORMATION: Sendable, Equatable {
    public var fileOffset: UInt64
    public var beyondFinalZero: UInt64

    public init(fileOffset: UInt64, beyondFinalZero: UInt64) {
        self.fileOffset = fileOffset
        self.beyondFinalZero = beyondFinalZero
    }

    public func encode() throws -> [UInt8] {
        guard fileOffset <= beyondFinalZero, beyondFinalZero <= UInt64(Int64.max) else {
            throw EncodingError("FILE_ZERO_DATA_INFORMATION: bad range \(fileOffset)..<\(beyondFinalZero)")
        }
        var w = WireWriter(capacity: 16)
        w.u64(fileOffset)
        w.u64(beyondFinalZero)
        return w.bytes
    }
}

/// FILE_ALLOCATED_RANGE_BUFFER (MS-FSCC 2.3.33): FileOffset and Length, 16 bytes. One is the
/// input of FSCTL_QUERY_ALLOCATED_RANGES (2.3.32, the range to ask about); the output is a
/// list of them. STATUS_BUFFER_OVERFLOW with a full buffer means more ranges follow: ask again
/// from the end of the last one.
public struct FILE_ALLOCATED_RANGE_BUFFER: Sendable, Equatable {
    public static let size = 16
    /// The decoder refuses longer lists; a buffer this long is 64 KiB, more than this client asks for.
    public static let maxRanges = 4096

    public var fileOffset: UInt64
    public var length: UInt64

    public init(fileOffset: UInt64, length: UInt64) {
        self.fileOffset = fileOffset
        self.length = length
    }

    public func encode() throws -> [UInt8] {
        // Both are LARGE_INTEGERs that must be >= 0, and the range must not wrap.
        guard fileOffset <= UInt64(Int64.max), length <= UInt64(Int64.max) - fileOffset else {
            throw EncodingError("FILE_ALLOCATED_RANGE_BUFFER: bad range")
        }
        var w = WireWriter(capacity: 16)
        w.u64(fileOffset)
        w.u64(length)
        return w.bytes
    }

    /// Decodes the output list. Each range must be non-negative, non-empty, not wrap, and start at
    /// or after the end of the previous one (the list is sorted and ranges do not overlap), so the
    /// caller can answer SEEK_DATA / SEEK_HOLE by walking it.
    public static func decodeList(_ b: [UInt8]) throws -> [FILE_ALLOCATED_RANGE_BUFFER] {
        guard b.count % size == 0 else {
            throw ProtocolError.unexpected("FSCTL_QUERY_ALLOCATED_RANGES: \(b.count) bytes is not a whole number of ranges")
        }
        guard b.count / size <= maxRanges else { throw ProtocolError.unexpected("FSCTL_QUERY_ALLOCATED_RANGES: too many ranges") }
        var r = WireReader(b)
        var out: [FILE_ALLOCATED_RANGE_BUFFER] = []
        out.reserveCapacity(b.count / size)
        var previousEnd: UInt64 = 0
        while r.remaining > 0 {
            let off = try r.u64()
            let len = try r.u64()
            guard off <= UInt64(Int64.max), len > 0, len <= UInt64(Int64.max) - off, off >= previousEnd else {
                throw ProtocolError.unexpected("FSCTL_QUERY_ALLOCATED_RANGES: bad range \(off)+\(len)")
            }
            previousEnd = off + len
            out.append(FILE_ALLOCATED_RANGE_BUFFER(fileOffset: off, length: len))
        }
        return out
    }
}

/// VALIDATE_NEGOTIATE_INFO request (MS-SMB2 2.2.31.4): the input of FSCTL_VALIDATE_NEGOTIATE_INFO,
/// sent on 3.0 / 3.0.2 connections (3.1.1 relies on preauth integrity instead).
public struct VALIDATE_NEGOTIATE_INFO_Request: Sendable, Equatable {
    /// This client offers at most five dialects (2.0.2 ... 3.1.1); the encoder allows some room.
    public static let maxDialects = 16

    public var capabilities: UInt32
    public var guid: [UInt8]
    public var securityMode: UInt16
    public var dialects: [UInt16]

    public init(capabilities: UInt32, guid: [UInt8], securityMode: UInt16, dialects: [UInt16]) {
        self.capabilities = capabilities
        self.guid = guid
        self.securityMode = securityMode
        self.dialects = dialects
    }

    public func encode() throws -> [UInt8] {
        guard guid.count == 16 else { throw EncodingError("VALIDATE_NEGOTIATE_INFO: Guid must be 16 bytes") }
        guard !dialects.isEmpty, dialects.count <= Self.maxDialects else {
            throw EncodingError("VALIDATE_NEGOTIATE_INFO: 1...\(Self.maxDialects) dialects")
        }
        var w = WireWriter(capacity: 24 + 2 * dialects.count)
        w.u32(capabilities)
        w.bytes(guid)
        w.u16(securityMode)
        w.u16(UInt16(dialects.count))              // DialectCount
        for d in dialects { w.u16(d) }
        return w.bytes
    }
}

/// VALIDATE_NEGOTIATE_INFO response (MS-SMB2 2.2.32.6): 24 bytes the client compares with what
/// NEGOTIATE returned (3.2.5.14.12).
public struct VALIDATE_NEGOTIATE_INFO_Response: Sendable, Equatable {
    public static let size = 24
    public var capabilities: UInt32
    public var guid: [UInt8]
    public var securityMode: UInt16
    public var dialect: UInt16

    public init(capabilities: UInt32, guid: [UInt8], securityMode: UInt16, dialect: UInt16) {
        self.capabilities = capabilities
        self.guid = guid
        self.securityMode = securityMode
        self.dialect = dialect
    }

    public static func decode(_ b: [UInt8]) throws -> VALIDATE_NEGOTIATE_INFO_Response {
        var r = WireReader(b)
        return VALIDATE_NEGOTIATE_INFO_Response(capabilities: try r.u32(), guid: try r.read(16),
                                                securityMode: try r.u16(), dialect: try r.u16())
    }
}

/// FSCTL_VALIDATE_NEGOTIATE_INFO (MS-SMB2 2.2.31.4, 2.2.32.6): after TREE_CONNECT on 3.0 and
/// 3.0.2 the client repeats what it offered in NEGOTIATE, inside the signed session, and the
/// server repeats what it answered; a man in the middle who changed the NEGOTIATE is caught.
public struct ValidateNegotiateInfo: Sendable, Equatable {
    public static let responseSize = 24
    /// A 1 byte-per-dialect list is never this long; bounds the request we build.
    static let maxDialects = 16

    public var capabilities: Capabilities
    public var guid: [UInt8]
    public var securityMode: SecurityMode
    public var dialects: [Dialect]

    public init(capabilities: Capabilities, guid: [UInt8], securityMode: SecurityMode, dialects: [Dialect]) {
        self.capabilities = capabilities
        self.guid = guid
        self.securityMode = securityMode
        self.dialects = dialects
    }

    /// The request's input buffer (2.2.31.4): Capabilities, ClientGuid, SecurityMode,
    /// DialectCount, Dialects.
    public func encodeRequest() -> [UInt8] {
        var w = WireWriter(capacity: 24 + 2 * dialects.count)
        w.u32(capabilities.rawValue)
        w.bytes(guid.count == 16 ? guid : Array(repeating: 0, count: 16))
        w.u16(securityMode.rawValue)
        let list = dialects.prefix(Self.maxDialects)
        w.u16(UInt16(list.count))
        for d in list { w.u16(d.rawValue) }
        return w.bytes
    }

    /// The response's output buffer (2.2.32.6): Capabilities, ServerGuid, SecurityMode, Dialect.
    public static func decodeResponse(_ b: [UInt8]) throws -> (capabilities: Capabilities, guid: [UInt8],
                                                                securityMode: SecurityMode, dialect: UInt16) {
        guard b.count == responseSize else {
            throw ProtocolError.unexpected("VALIDATE_NEGOTIATE_INFO response of \(b.count) bytes")
        }
        var r = WireReader(b)
        return (Capabilities(rawValue: try r.u32()), try r.read(16), SecurityMode(rawValue: try r.u16()), try r.u16())
    }
}
