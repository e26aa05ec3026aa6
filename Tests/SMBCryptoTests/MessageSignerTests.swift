import XCTest
@testable import SMBCrypto

final class MessageSignerTests: XCTestCase {
    /// A 200-byte pseudo message, byte i = (7i + 3) mod 256, Signature field zeroed.
    /// Flags = 0x88817a73 (SERVER_TO_REDIR set), Command = 0x5e57.
    func sampleMessage() -> [UInt8] {
        var m = (0..<200).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
        for i in 48..<64 { m[i] = 0 }
        return m
    }

    let key = (0..<16).map { UInt8($0) }

    /// Expected values from Python `cryptography` (HMAC/CMAC/AESGCM over the zeroed message).
    func testKnownSignatures() throws {
        let m = sampleMessage()
        XCTAssertEqual(hexString(try MessageSigner(algorithm: .hmacSHA256, key: key).signature(of: m)),
                       "58ba2a27e0af8c6321b34ab93af3024b")
        XCTAssertEqual(hexString(try MessageSigner(algorithm: .aesCMAC, key: key).signature(of: m)),
                       "bb8c36dc264410826fe032e2dfc97cfc")
        // GMAC nonce = bytes 24..<32 + 01 00 00 00 (response).
        XCTAssertEqual(hexString(try MessageSigner(algorithm: .aesGMAC, key: key).signature(of: m)),
                       "6f12886b43a4d0db2e2401f3f6a48459")
    }

    /// MS-SMB2 3.1.4.1: CANCEL request sets bit 1 of the nonce's last 4 bytes, bit 0 clear for a request.
    func testGMACCancelNonce() throws {
        var m = sampleMessage()
        m[12] = 0x0c; m[13] = 0
        m[16] = 0x08; m[17] = 0; m[18] = 0; m[19] = 0
        let nonce = m.withUnsafeBytes { MessageSigner.gmacNonce($0) }
        XCTAssertEqual(Array(nonce[8...]), [2, 0, 0, 0])
        XCTAssertEqual(hexString(try MessageSigner(algorithm: .aesGMAC, key: key).signature(of: m)),
                       "70c7358ba4931c3ecdac424a38c1fd76")
    }

    /// The signature ignores whatever is already in the Signature field.
    func testSignatureFieldTreatedAsZero() throws {
        let signer = try MessageSigner(algorithm: .aesCMAC, key: key)
        var m = sampleMessage()
        let clean = try signer.signature(of: m)
        for i in 48..<64 { m[i] = 0xee }
        XCTAssertEqual(try signer.signature(of: m), clean)
    }

    func testRoundTripTamperAndShort() throws {
        for algorithm in [SigningAlgorithm.hmacSHA256, .aesCMAC, .aesGMAC] {
            let signer = try MessageSigner(algorithm: algorithm, key: key)
            var m = sampleMessage()
            try signer.sign(&m)
            XCTAssertTrue(signer.verify(m), "\(algorithm)")
            XCTAssertNotEqual(Array(m[48..<64]), [UInt8](repeating: 0, count: 16))

            var tampered = m
            tampered[150] ^= 0x01
            XCTAssertFalse(signer.verify(tampered), "\(algorithm) body tamper")
            var badSig = m
            badSig[50] ^= 0x80
            XCTAssertFalse(signer.verify(badSig), "\(algorithm) signature tamper")

            XCTAssertFalse(signer.verify(Array(m[0..<63])), "\(algorithm) short")
            XCTAssertFalse(signer.verify([]), "\(algorithm) empty")
            XCTAssertThrowsError(try signer.signature(of: Array(m[0..<10])))

            // Header-only message (nothing after the signature) still works.
            var header = Array(m[0..<64])
            try signer.sign(&header)
            XCTAssertTrue(signer.verify(header))
        }
    }

    /// Signing in place in a transport buffer (the message after a 4-byte frame header) gives
    /// the bytes signing a copy gives, and touches nothing outside the signature field.
    func testSignInPlaceMatchesSignedCopy() throws {
        for algorithm in [SigningAlgorithm.hmacSHA256, .aesCMAC, .aesGMAC] {
            let signer = try MessageSigner(algorithm: algorithm, key: key)
            var copy = sampleMessage()
            try signer.sign(&copy)
            var frame = [0xaa, 0xbb, 0xcc, 0xdd] + sampleMessage() + [0xee]
            try frame.withUnsafeMutableBytes { b in
                try signer.sign(bytes: UnsafeMutableRawBufferPointer(rebasing: b[4..<(b.count - 1)]))
            }
            XCTAssertEqual(Array(frame[4..<(frame.count - 1)]), copy, "\(algorithm)")
            XCTAssertEqual(Array(frame[0..<4]) + [frame.last!], [0xaa, 0xbb, 0xcc, 0xdd, 0xee], "\(algorithm)")
            var short = [UInt8](repeating: 0, count: 63)
            XCTAssertThrowsError(try short.withUnsafeMutableBytes { try signer.sign(bytes: $0) })
        }
    }

    func testKeyLengthChecked() {
        XCTAssertThrowsError(try MessageSigner(algorithm: .aesCMAC, key: [1, 2, 3]))
        XCTAssertThrowsError(try MessageSigner(algorithm: .aesGMAC, key: [UInt8](repeating: 0, count: 32)))
        XCTAssertNoThrow(try MessageSigner(algorithm: .hmacSHA256, key: [UInt8](repeating: 1, count: 32)))
    }

    func testWireIds() {
        XCTAssertEqual(SigningAlgorithm.hmacSHA256.rawValue, 0)
        XCTAssertEqual(SigningAlgorithm.aesCMAC.rawValue, 1)
        XCTAssertEqual(SigningAlgorithm.aesGMAC.rawValue, 2)
    }
}
