/// A small DER reader and writer (ITU-T X.690) for SPNEGO tokens.
/// Only single-byte tags and definite lengths of up to 4 length octets are accepted.
enum DER {
    /// Deepest nesting the reader follows (SPNEGO tokens nest about 6 deep).
    static let maxDepth = 16
    /// X.690 8.1.3.5: long form with at most 4 length octets.
    static let maxLengthOctets = 4

    // Tags used by SPNEGO (RFC 4178 4.2, RFC 2743 3.1).
    static let sequence: UInt8 = 0x30
    static let oid: UInt8 = 0x06
    static let octetString: UInt8 = 0x04
    static let enumerated: UInt8 = 0x0a
    static let bitString: UInt8 = 0x03
    static let generalString: UInt8 = 0x1b
    static let application0: UInt8 = 0x60
    /// [n] constructed, context-specific.
    static func context(_ n: UInt8) -> UInt8 { 0xa0 | n }

    // MARK: writing

    static func encodeLength(_ n: Int) -> [UInt8] {
        if n < 0x80 { return [UInt8(n)] }
        var octets = [UInt8]()
        var v = n
        while v > 0 { octets.insert(UInt8(v & 0xff), at: 0); v >>= 8 }
        return [0x80 | UInt8(octets.count)] + octets
    }

    static func tlv(_ tag: UInt8, _ contents: [UInt8]) -> [UInt8] {
        [tag] + encodeLength(contents.count) + contents
    }

    // MARK: reading

    struct Element {
        let tag: UInt8
        let contents: ArraySlice<UInt8>
        /// Tag, length and contents exactly as they appeared.
        let encoded: ArraySlice<UInt8>

        var isConstructed: Bool { tag & 0x20 != 0 }
    }

    /// Reads consecutive elements out of `bytes`.
    struct Reader {
        private let bytes: ArraySlice<UInt8>
        private var position: Int
        let depth: Int

        init(_ bytes: ArraySlice<UInt8>, depth: Int = 0) throws {
            guard depth <= DER.maxDepth else { throw AuthError.malformed("DER nested deeper than \(DER.maxDepth)") }
            self.bytes = bytes
            self.position = bytes.startIndex
            self.depth = depth
        }

        init(_ bytes: [UInt8]) throws {
            try self.init(bytes[...])
        }

        var isAtEnd: Bool { position >= bytes.endIndex }

        func peekTag() -> UInt8? {
            isAtEnd ? nil : bytes[position]
        }

        mutating func read() throws -> Element {
            let start = position
            guard position < bytes.endIndex else { throw AuthError.malformed("DER: expected an element, found end") }
            let tag = bytes[position]
            // X.690 8.1.2.4: high tag numbers are not used by SPNEGO.
            guard tag & 0x1f != 0x1f else { throw AuthError.malformed("DER: multi-byte tag") }
            position += 1
            guard position < bytes.endIndex else { throw AuthError.malformed("DER: missing length") }
            let first = bytes[position]
            position += 1
            var length = 0
            if first < 0x80 {
                length = Int(first)
            } else {
                let count = Int(first & 0x7f)
                // X.690 10.1: DER forbids the indefinite form (0x80).
                guard count != 0 else { throw AuthError.malformed("DER: indefinite length") }
                guard count <= DER.maxLengthOctets else { throw AuthError.malformed("DER: length of \(count) octets") }
                guard bytes.endIndex - position >= count else { throw AuthError.malformed("DER: truncated length") }
                for _ in 0..<count {
                    length = (length << 8) | Int(bytes[position])
                    position += 1
                }
            }
            guard length <= bytes.endIndex - position else {
                throw AuthError.malformed("DER: length \(length) exceeds the \(bytes.endIndex - position) bytes left")
            }
            let contents = bytes[position..<(position + length)]
            position += length
            return Element(tag: tag, contents: contents, encoded: bytes[start..<position])
        }

        /// Reads one element and checks its tag.
        mutating func read(tag expected: UInt8) throws -> Element {
            let element = try read()
            guard element.tag == expected else {
                throw AuthError.malformed("DER: expected tag 0x\(String(expected, radix: 16)), got 0x\(String(element.tag, radix: 16))")
            }
            return element
        }

        /// A reader over a constructed element's contents, one level deeper.
        func children(of element: Element) throws -> Reader {
            guard element.isConstructed else { throw AuthError.malformed("DER: primitive element used as constructed") }
            return try Reader(element.contents, depth: depth + 1)
        }

        /// Reads `[n] { inner }` (an explicit context tag) and returns the single inner element.
        mutating func readExplicit(_ n: UInt8, innerTag: UInt8) throws -> Element {
            let outer = try read(tag: DER.context(n))
            var inner = try children(of: outer)
            let element = try inner.read(tag: innerTag)
            guard inner.isAtEnd else { throw AuthError.malformed("DER: trailing bytes in [\(n)]") }
            return element
        }

        func expectEnd() throws {
            guard isAtEnd else { throw AuthError.malformed("DER: trailing bytes") }
        }
    }
}
