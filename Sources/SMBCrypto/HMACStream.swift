/// HMAC (RFC 2104) over a streaming EVP digest, so callers can feed a message in
/// pieces (message signing hashes header, zeroed signature and body without copying).
struct HMACStream: ~Copyable {
    private var inner: DigestStream
    private let outerKey: [UInt8]
    private let kind: DigestKind

    init(_ kind: DigestKind, key: [UInt8]) {
        self.kind = kind
        // RFC 2104 2: keys longer than the block are hashed first, then zero-padded to the block size.
        var k0: [UInt8]
        if key.count > kind.blockSize {
            var h = DigestStream(kind)
            h.update(key)
            k0 = h.finish()
        } else {
            k0 = key
        }
        k0 += [UInt8](repeating: 0, count: kind.blockSize - k0.count)
        inner = DigestStream(kind)
        inner.update(k0.map { $0 ^ 0x36 })
        outerKey = k0.map { $0 ^ 0x5c }
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        inner.update(bytes)
    }

    mutating func update(_ bytes: [UInt8]) {
        inner.update(bytes)
    }

    consuming func finish() -> [UInt8] {
        let innerHash = inner.finish()
        var outer = DigestStream(kind)
        outer.update(outerKey)
        outer.update(innerHash)
        return outer.finish()
    }
}
