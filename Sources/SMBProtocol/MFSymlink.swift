/// Minshall–French symlinks: the format Linux cifs (`mfsymlinks`) and macOS smbfs use to store a
/// symbolic link in a regular file on any server. The file is exactly 1067 bytes:
///
///     offset 0   "XSym\n"
///     offset 5   the target's length in bytes, 4 decimal digits ("%04u"), then "\n"
///     offset 10  the MD5 of the target, 32 lowercase hex digits, then "\n"
///     offset 43  the target (at most 1024 bytes), then "\n" if it fits, then spaces to 1067
///
/// (Linux fs/smb/client/link.c: CIFS_MF_SYMLINK_LEN_OFFSET 5, _MD5_OFFSET 10, _LINK_OFFSET 43,
/// _LINK_MAXLEN 1024, _FILE_SIZE 1067.) A file is taken for a symlink only if it is exactly this
/// size, the header parses, and the MD5 matches.
///
/// SMBProtocol has no crypto, so the MD5 function is a parameter (`Digest.md5` from SMBCrypto in
/// the client).
public struct MFSymlink: Sendable, Equatable {
    public static let fileSize = 1067
    public static let maxTargetLength = 1024
    static let lengthOffset = 5
    static let md5Offset = 10
    static let targetOffset = 43
    static let magic: [UInt8] = Array("XSym\n".utf8)

    /// The target as bytes (UTF-8 as Linux gives it), not NUL-terminated.
    public var target: [UInt8]
    /// The 16-byte MD5 recorded in the file.
    public var md5: [UInt8]

    /// True when a file of this size may be a Minshall–French symlink (the caller reads and
    /// decodes only such files).
    public static func isCandidate(size: UInt64) -> Bool { size == UInt64(fileSize) }

    /// Builds the 1067-byte file for `target`. Throws for an empty target, one longer than
    /// 1024 bytes, one containing NUL, or an `md5` that does not return 16 bytes.
    public static func encode(target: [UInt8], md5: ([UInt8]) -> [UInt8]) throws -> [UInt8] {
        guard !target.isEmpty, target.count <= maxTargetLength else {
            throw EncodingError("MF symlink target must be 1...\(maxTargetLength) bytes")
        }
        guard !target.contains(0) else { throw EncodingError("MF symlink target contains NUL") }
        let digest = md5(target)
        guard digest.count == 16 else { throw EncodingError("md5 returned \(digest.count) bytes") }
        var out = magic
        let len = String(target.count)
        out += Array(String(repeating: "0", count: 4 - len.count).utf8) + Array(len.utf8)
        out.append(0x0A)
        out += hex(digest)
        out.append(0x0A)
        out += target
        if out.count < fileSize { out.append(0x0A) }
        out += [UInt8](repeating: 0x20, count: fileSize - out.count)
        return out
    }

    /// Parses the structure strictly (size, magic, 4-digit length ≤ 1024, newlines, 32 hex
    /// digits, no NUL in the target) without checking the MD5; call `verify(md5:)` next, or use
    /// `decode(_:md5:)`. The padding after the target is not checked (writers differ).
    public static func decode(_ file: [UInt8]) throws -> MFSymlink {
        guard file.count == fileSize else { throw ProtocolError.unexpected("MF symlink: size \(file.count), not \(fileSize)") }
        guard Array(file[0..<lengthOffset]) == magic else { throw ProtocolError.unexpected("MF symlink: no XSym header") }
        var length = 0
        for b in file[lengthOffset..<(lengthOffset + 4)] {
            guard b >= 0x30, b <= 0x39 else { throw ProtocolError.unexpected("MF symlink: bad length field") }
            length = length * 10 + Int(b - 0x30)
        }
        guard file[lengthOffset + 4] == 0x0A, file[md5Offset + 32] == 0x0A else {
            throw ProtocolError.unexpected("MF symlink: bad header separators")
        }
        guard length <= maxTargetLength else { throw ProtocolError.unexpected("MF symlink: length \(length) above \(maxTargetLength)") }
        var digest: [UInt8] = []
        digest.reserveCapacity(16)
        var i = md5Offset
        while i < md5Offset + 32 {
            guard let hi = nibble(file[i]), let lo = nibble(file[i + 1]) else {
                throw ProtocolError.unexpected("MF symlink: bad MD5 field")
            }
            digest.append(hi << 4 | lo)
            i += 2
        }
        let target = Array(file[targetOffset..<(targetOffset + length)])
        guard !target.contains(0) else { throw ProtocolError.unexpected("MF symlink: NUL in target") }
        return MFSymlink(target: target, md5: digest)
    }

    /// Decodes and verifies the MD5; returns the target.
    public static func decode(_ file: [UInt8], md5: ([UInt8]) -> [UInt8]) throws -> [UInt8] {
        let link = try decode(file)
        guard link.verify(md5: md5) else { throw ProtocolError.unexpected("MF symlink: MD5 does not match the target") }
        return link.target
    }

    public func verify(md5: ([UInt8]) -> [UInt8]) -> Bool { md5(target) == self.md5 }

    static func hex(_ b: [UInt8]) -> [UInt8] {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(b.count * 2)
        for x in b { out.append(digits[Int(x >> 4)]); out.append(digits[Int(x & 0x0F)]) }
        return out
    }

    /// A hex digit of either case (Linux writes lowercase; reading uppercase costs nothing).
    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }
}
