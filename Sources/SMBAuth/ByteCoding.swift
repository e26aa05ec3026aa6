/// Little-endian byte helpers for NTLM messages (MS-NLMP 2.2: all integers are little-endian).
struct LittleEndianReader {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func u8(at offset: Int) throws -> UInt8 {
        guard offset >= 0, offset < bytes.count else { throw AuthError.malformed("read past end at \(offset)") }
        return bytes[offset]
    }

    func u16(at offset: Int) throws -> UInt16 {
        let s = try slice(offset, 2)
        return UInt16(s[s.startIndex]) | UInt16(s[s.startIndex + 1]) << 8
    }

    func u32(at offset: Int) throws -> UInt32 {
        let s = try slice(offset, 4)
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(s[s.startIndex + i]) << (8 * UInt32(i)) }
        return v
    }

    func u64(at offset: Int) throws -> UInt64 {
        let s = try slice(offset, 8)
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(s[s.startIndex + i]) << (8 * UInt64(i)) }
        return v
    }

    /// `count` bytes starting at `offset`, or a malformed error if any of them is outside the buffer.
    func slice(_ offset: Int, _ count: Int) throws -> ArraySlice<UInt8> {
        guard offset >= 0, count >= 0, offset <= bytes.count, count <= bytes.count - offset else {
            throw AuthError.malformed("range \(offset)+\(count) outside \(bytes.count)-byte buffer")
        }
        return bytes[offset..<(offset + count)]
    }
}

extension Array where Element == UInt8 {
    mutating func appendLE(_ v: UInt16) {
        append(UInt8(truncatingIfNeeded: v)); append(UInt8(truncatingIfNeeded: v >> 8))
    }

    mutating func appendLE(_ v: UInt32) {
        for i in 0..<4 { append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) }
    }

    mutating func appendLE(_ v: UInt64) {
        for i in 0..<8 { append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    mutating func writeLE(_ v: UInt16, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: v); self[offset + 1] = UInt8(truncatingIfNeeded: v >> 8)
    }

    mutating func writeLE(_ v: UInt32, at offset: Int) {
        for i in 0..<4 { self[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
    }
}

enum UTF16LE {
    /// UTF-16LE encoding without terminator (MS-NLMP 2.2: Unicode strings when NEGOTIATE_UNICODE).
    static func encode(_ s: String) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(s.utf16.count * 2)
        for unit in s.utf16 { out.appendLE(unit) }
        return out
    }

    /// UTF-8 bytes to UTF-16LE without making a String of them (for a password); invalid
    /// sequences become U+FFFD.
    static func encode(utf8 bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        _ = transcode(bytes.makeIterator(), from: UTF8.self, to: UTF16.self, stoppingOnError: false) { out.appendLE($0) }
        return out
    }

    /// Decodes UTF-16LE; odd lengths are malformed; invalid surrogates become U+FFFD.
    static func decode(_ bytes: ArraySlice<UInt8>) throws -> String {
        guard bytes.count % 2 == 0 else { throw AuthError.malformed("odd-length UTF-16 string") }
        var units = [UInt16]()
        units.reserveCapacity(bytes.count / 2)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            units.append(UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8)
            i += 2
        }
        return String(decoding: units, as: UTF16.self)
    }

    /// Windows-style uppercase (MS-NLMP 3.3.2 Uppercase(User)): one scalar maps to one scalar;
    /// scalars whose uppercase is longer (e.g. U+00DF) stay as they are.
    static func uppercase(_ s: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            let upper = scalar.properties.uppercaseMapping.unicodeScalars
            if upper.count == 1, let u = upper.first { scalars.append(u) } else { scalars.append(scalar) }
        }
        return String(scalars)
    }
}

/// Constant-time equality for MACs.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<a.count { diff |= a[i] ^ b[i] }
    return diff == 0
}
