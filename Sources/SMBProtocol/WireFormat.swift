/// Little-endian readers and writers for SMB2 wire structures (MS-SMB2 1.3: all
/// multi-byte fields are little-endian unless stated otherwise).

/// Reads from untrusted bytes. Every accessor checks bounds and throws; nothing traps.
public struct WireReader {
    public let bytes: [UInt8]
    public private(set) var position: Int

    public init(_ bytes: [UInt8], position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    public var remaining: Int { bytes.count - position }

    public mutating func skip(_ n: Int) throws {
        guard n >= 0, n <= remaining else { throw ProtocolError.truncated(needed: n, available: remaining) }
        position += n
    }

    public mutating func seek(to offset: Int) throws {
        guard offset >= 0, offset <= bytes.count else { throw ProtocolError.badOffset(offset) }
        position = offset
    }

    public mutating func u8() throws -> UInt8 {
        guard remaining >= 1 else { throw ProtocolError.truncated(needed: 1, available: remaining) }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func u16() throws -> UInt16 { UInt16(truncatingIfNeeded: try uint(2)) }
    public mutating func u32() throws -> UInt32 { UInt32(truncatingIfNeeded: try uint(4)) }
    public mutating func u64() throws -> UInt64 { try uint(8) }

    private mutating func uint(_ n: Int) throws -> UInt64 {
        guard remaining >= n else { throw ProtocolError.truncated(needed: n, available: remaining) }
        var v: UInt64 = 0
        for i in 0..<n { v |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += n
        return v
    }

    public mutating func read(_ n: Int) throws -> [UInt8] {
        guard n >= 0, n <= remaining else { throw ProtocolError.truncated(needed: n, available: remaining) }
        defer { position += n }
        return Array(bytes[position..<(position + n)])
    }

    /// A sub-range given by an offset and length taken from the message itself.
    public func slice(offset: Int, length: Int) throws -> [UInt8] {
        guard offset >= 0, length >= 0, offset <= bytes.count, length <= bytes.count - offset else {
            throw ProtocolError.badOffset(offset)
        }
        return Array(bytes[offset..<(offset + length)])
    }
}

/// Builds wire structures.
public struct WireWriter {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u16(_ v: UInt16) { append(UInt64(v), 2) }
    public mutating func u32(_ v: UInt32) { append(UInt64(v), 4) }
    public mutating func u64(_ v: UInt64) { append(v, 8) }
    public mutating func bytes(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    public mutating func bytes(_ b: ArraySlice<UInt8>) { bytes.append(contentsOf: b) }
    public mutating func zeros(_ n: Int) { bytes.append(contentsOf: repeatElement(0, count: n)) }

    /// Pads with zeros to a multiple of `alignment` (MS-SMB2 uses 8 for contexts and compound messages).
    public mutating func align(_ alignment: Int) {
        let r = bytes.count % alignment
        if r != 0 { zeros(alignment - r) }
    }

    public mutating func patchU16(at offset: Int, _ v: UInt16) { patch(at: offset, UInt64(v), 2) }
    public mutating func patchU32(at offset: Int, _ v: UInt32) { patch(at: offset, UInt64(v), 4) }

    private mutating func append(_ v: UInt64, _ n: Int) {
        for i in 0..<n { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    private mutating func patch(at offset: Int, _ v: UInt64, _ n: Int) {
        for i in 0..<n { bytes[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
    }
}

/// UTF-16LE, the encoding of every name on the wire (MS-SMB2 2.2.13 etc.).
/// Entries chained by a leading 32-bit NextEntryOffset, 0 on the last, as directory entries
/// (MS-FSCC 2.4), EAs (2.4.15), change notifications (2.7.1) and create contexts (MS-SMB2
/// 2.2.13.2) are. `entry` reads one, the reader just past its NextEntryOffset and `start` its
/// offset, and returns it with its own length: the next entry must begin past that, on an
/// `alignment` boundary, inside the buffer. More than `limit` entries is an error; an empty
/// buffer holds none.
public enum ChainedEntries {
    public static func decode<T>(_ b: [UInt8], alignment: Int = 1, limit: Int = .max, _ what: String,
                                 _ entry: (inout WireReader, _ start: Int) throws -> (T, length: Int)) throws -> [T] {
        var out: [T] = []
        guard !b.isEmpty else { return out }
        var pos = 0
        while true {
            guard out.count < limit else { throw ProtocolError.unexpected("\(what): more than \(limit) entries") }
            var r = WireReader(b, position: pos)
            let next = Int(try r.u32())
            let (value, length) = try entry(&r, pos)
            out.append(value)
            if next == 0 { return out }
            guard next >= length, next % alignment == 0, next <= b.count - pos else { throw ProtocolError.badOffset(next) }
            pos += next
        }
    }
}

public enum UTF16LE {
    public static func encode(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf16.count * 2)
        for u in s.utf16 { out.append(UInt8(u & 0xff)); out.append(UInt8(u >> 8)) }
        return out
    }

    /// Decodes; an odd length or an unpaired surrogate is an error, never a replacement character,
    /// so a name always round-trips exactly.
    public static func decode(_ b: ArraySlice<UInt8>) throws -> String {
        guard b.count % 2 == 0 else { throw ProtocolError.invalidString }
        var units: [UInt16] = []
        units.reserveCapacity(b.count / 2)
        var i = b.startIndex
        while i < b.endIndex {
            units.append(UInt16(b[i]) | UInt16(b[i + 1]) << 8)
            i += 2
        }
        var s = ""
        var it = units.makeIterator()
        var decoder = UTF16()
        loop: while true {
            switch decoder.decode(&it) {
            case .scalarValue(let c): s.unicodeScalars.append(c)
            case .emptyInput: break loop
            case .error: throw ProtocolError.invalidString
            }
        }
        return s
    }

    public static func decode(_ b: [UInt8]) throws -> String { try decode(b[...]) }
}
