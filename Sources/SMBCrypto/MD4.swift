/// MD4 message digest, RFC 1320. Needed only for the NT hash (MS-NLMP 3.3.1 NTOWFv1/NTOWFv2).
enum MD4 {
    static func hash(_ message: [UInt8]) -> [UInt8] {
        // RFC 1320 3.1-3.2: pad to 56 mod 64 with 0x80 then zeros, append the bit length (64-bit LE).
        var data = message
        let bitLength = UInt64(message.count) &* 8
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        for i in 0..<8 { data.append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))) }

        // RFC 1320 3.3: initial buffer.
        var a: UInt32 = 0x6745_2301
        var b: UInt32 = 0xefcd_ab89
        var c: UInt32 = 0x98ba_dcfe
        var d: UInt32 = 0x1032_5476

        var x = [UInt32](repeating: 0, count: 16)
        var offset = 0
        while offset < data.count {
            for i in 0..<16 {
                let p = offset + 4 * i
                x[i] = UInt32(data[p]) | UInt32(data[p + 1]) << 8 | UInt32(data[p + 2]) << 16 | UInt32(data[p + 3]) << 24
            }
            let aa = a, bb = b, cc = c, dd = d

            // Round 1: F(x,y,z) = xy v not(x)z
            func r1(_ a: inout UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ k: Int, _ s: UInt32) {
                a = rotl(a &+ ((b & c) | (~b & d)) &+ x[k], s)
            }
            for i in stride(from: 0, to: 16, by: 4) {
                r1(&a, b, c, d, i, 3); r1(&d, a, b, c, i + 1, 7)
                r1(&c, d, a, b, i + 2, 11); r1(&b, c, d, a, i + 3, 19)
            }
            // Round 2: G(x,y,z) = xy v xz v yz, constant 0x5A827999
            func r2(_ a: inout UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ k: Int, _ s: UInt32) {
                a = rotl(a &+ ((b & c) | (b & d) | (c & d)) &+ x[k] &+ 0x5a82_7999, s)
            }
            for i in 0..<4 {
                r2(&a, b, c, d, i, 3); r2(&d, a, b, c, i + 4, 5)
                r2(&c, d, a, b, i + 8, 9); r2(&b, c, d, a, i + 12, 13)
            }
            // Round 3: H(x,y,z) = x xor y xor z, constant 0x6ED9EBA1
            func r3(_ a: inout UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ k: Int, _ s: UInt32) {
                a = rotl(a &+ (b ^ c ^ d) &+ x[k] &+ 0x6ed9_eba1, s)
            }
            for i in [0, 2, 1, 3] {
                r3(&a, b, c, d, i, 3); r3(&d, a, b, c, i + 8, 9)
                r3(&c, d, a, b, i + 4, 11); r3(&b, c, d, a, i + 12, 15)
            }

            a = a &+ aa; b = b &+ bb; c = c &+ cc; d = d &+ dd
            offset += 64
        }

        var out = [UInt8]()
        out.reserveCapacity(16)
        for word in [a, b, c, d] {
            for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: word >> (8 * UInt32(i)))) }
        }
        return out
    }

    @inline(__always)
    private static func rotl(_ v: UInt32, _ s: UInt32) -> UInt32 {
        (v << s) | (v >> (32 - s))
    }
}
