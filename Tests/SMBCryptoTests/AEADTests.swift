import XCTest
@testable import SMBCrypto

/// The four SMB 3.x ciphers. GCM: test cases 4 (AES-128) and 16 (AES-256) of the GCM
/// specification (McGrew and Viega, NIST). CCM with SMB's 11-byte nonce and 16-byte tag has no
/// published vector; the expected values were computed with Python's `cryptography` (an
/// independent implementation) from the same key, nonce (the GCM one, cut to 11 bytes), AAD
/// and plaintext.
final class AEADTests: XCTestCase {
    let key128 = hex("feffe9928665731c6d6a8f9467308308")
    let key256 = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
    let plaintext = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                        + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
    let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
    let nonce12 = hex("cafebabefacedbaddecaf888")
    var nonce11: [UInt8] { Array(nonce12.prefix(11)) }

    struct Vector { let algorithm: AEADAlgorithm; let ciphertext: String; let tag: String; let emptyTag: String }

    var vectors: [Vector] { [
        Vector(algorithm: .aes128GCM,
               ciphertext: "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
               tag: "5bc94fbc3221a5db94fae95ae7121a47", emptyTag: "346434fd51d5cd0c5887ec63e39b907a"),
        Vector(algorithm: .aes256GCM,
               ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
               tag: "76fc6ece0f4e1768cddf8853bb2d551b", emptyTag: "9f6be07603c0b0bd1272854063e9c9ba"),
        Vector(algorithm: .aes128CCM,
               ciphertext: "f3e0224c5eeabc4289605a86b326fd895c6653f85113abfef4a2147cef2421a882ae3673791366d2d2f510f5191b996a20206a7d6d288c29ce4ed41e",
               tag: "3d7054f91a29bd54c3961d4c5fd2bee5", emptyTag: "699d094d9804acb4822fd80763e10eba"),
        Vector(algorithm: .aes256CCM,
               ciphertext: "22c889c05709e49738aa7f8f9509a9a38d688b0ba7f4a0f67cfbecf9f06c09031c56f86d6533bc803719396208f019b1a391e9c1e66eda163d4af1d5",
               tag: "75830dfe36b98b1eb7c7365b6d4331f5", emptyTag: "d9417da6c8eaedb22eb7e02bbb4ebad4"),
    ] }

    func aead(_ a: AEADAlgorithm) throws -> AEAD { try AEAD(algorithm: a, key: a.keyLength == 16 ? key128 : key256) }
    func nonce(_ a: AEADAlgorithm) -> [UInt8] { a.nonceLength == 12 ? nonce12 : nonce11 }

    func testSealMatchesKnownVectors() throws {
        for v in vectors {
            let (c, t) = try aead(v.algorithm).seal(nonce: nonce(v.algorithm), aad: aad, plaintext: plaintext)
            XCTAssertEqual(hexString(c), v.ciphertext, "\(v.algorithm)")
            XCTAssertEqual(hexString(t), v.tag, "\(v.algorithm)")
            let (e, et) = try aead(v.algorithm).seal(nonce: nonce(v.algorithm), aad: aad, plaintext: [])
            XCTAssertEqual(e, [])
            XCTAssertEqual(hexString(et), v.emptyTag, "\(v.algorithm) empty")
        }
    }

    func testOpenAcceptsTheRightTagOnly() throws {
        for v in vectors {
            let a = try aead(v.algorithm)
            let n = nonce(v.algorithm)
            XCTAssertEqual(try a.open(nonce: n, aad: aad, ciphertext: hex(v.ciphertext), tag: hex(v.tag)), plaintext)
            XCTAssertEqual(try a.open(nonce: n, aad: aad, ciphertext: [], tag: hex(v.emptyTag)), [])
            var badTag = hex(v.tag); badTag[15] ^= 1
            var badData = hex(v.ciphertext); badData[0] ^= 0x80
            var badAAD = aad; badAAD[3] ^= 4
            for (c, t, d) in [(hex(v.ciphertext), badTag, aad), (badData, hex(v.tag), aad), (hex(v.ciphertext), hex(v.tag), badAAD)] {
                XCTAssertThrowsError(try a.open(nonce: n, aad: d, ciphertext: c, tag: t), "\(v.algorithm)") { e in
                    XCTAssertEqual(e as? CryptoError, .authenticationFailed)
                }
            }
            // The error queue was cleared: the next operation works.
            XCTAssertEqual(try a.open(nonce: n, aad: aad, ciphertext: hex(v.ciphertext), tag: hex(v.tag)), plaintext)
        }
    }

    func testRoundTripOfAMebibyteInPlace() throws {
        let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        for alg in AEADAlgorithm.allCases {
            let a = try aead(alg)
            let (c, t) = try a.seal(nonce: nonce(alg), aad: aad, plaintext: big)
            XCTAssertNotEqual(c, big)
            XCTAssertEqual(try a.open(nonce: nonce(alg), aad: aad, ciphertext: c, tag: t), big, "\(alg)")
        }
    }

    /// GCM fed in pieces of every awkward size gives the known plaintext, and a wrong tag,
    /// ciphertext or AAD is refused at the end; CCM has no piecewise decryption.
    func testPiecewiseGCMDecryptionMatchesTheVectors() throws {
        func decrypt(_ v: Vector, piece: Int, ciphertext: [UInt8], tag: [UInt8], aad: [UInt8]) throws -> [UInt8] {
            let d = try aad.withUnsafeBytes { try aead(v.algorithm).decryption(nonce: nonce(v.algorithm), aad: $0) }
            guard let d else { throw CryptoError.invalidInput("no GCM decryption") }
            var out = [UInt8](repeating: 0, count: ciphertext.count)
            var at = 0
            while at < ciphertext.count {
                let n = min(piece, ciphertext.count - at)
                ciphertext.withUnsafeBytes { c in
                    out.withUnsafeMutableBytes { o in
                        d.update(UnsafeRawBufferPointer(rebasing: c[at..<(at + n)]), into: o.baseAddress! + at)
                    }
                }
                at += n
            }
            try d.finish(tag: tag)
            return out
        }
        for v in vectors {
            guard !v.algorithm.isCCM else {
                XCTAssertNil(try aad.withUnsafeBytes { try aead(v.algorithm).decryption(nonce: nonce(v.algorithm), aad: $0) })
                continue
            }
            for piece in [1, 7, 13, 16, 17, 64] {
                XCTAssertEqual(try decrypt(v, piece: piece, ciphertext: hex(v.ciphertext), tag: hex(v.tag), aad: aad), plaintext,
                               "\(v.algorithm) in pieces of \(piece)")
            }
            var badTag = hex(v.tag); badTag[0] ^= 1
            var badData = hex(v.ciphertext); badData[40] ^= 2
            var badAAD = aad; badAAD[0] ^= 8
            for (c, t, a) in [(hex(v.ciphertext), badTag, aad), (badData, hex(v.tag), aad), (hex(v.ciphertext), hex(v.tag), badAAD)] {
                XCTAssertThrowsError(try decrypt(v, piece: 5, ciphertext: c, tag: t, aad: a), "\(v.algorithm)") { e in
                    XCTAssertEqual(e as? CryptoError, .authenticationFailed)
                }
            }
        }
    }

    func testRejectsWrongKeyAndNonceLengths() {
        XCTAssertThrowsError(try AEAD(algorithm: .aes256GCM, key: key128)) { XCTAssertEqual($0 as? CryptoError, .invalidKeyLength(16)) }
        XCTAssertThrowsError(try AEAD(algorithm: .aes128CCM, key: key256)) { XCTAssertEqual($0 as? CryptoError, .invalidKeyLength(32)) }
        XCTAssertThrowsError(try aead(.aes128CCM).seal(nonce: nonce12, aad: [], plaintext: [1]))
        XCTAssertThrowsError(try aead(.aes128GCM).seal(nonce: nonce11, aad: [], plaintext: [1]))
    }
}
