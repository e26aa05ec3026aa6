import XCTest
@testable import SMBCrypto

final class DigestTests: XCTestCase {
    func testSHA512abc() {
        XCTAssertEqual(hexString(Digest.sha512(ascii("abc"))),
                       "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                       + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
    }

    func testSHA256abc() {
        XCTAssertEqual(hexString(Digest.sha256(ascii("abc"))),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testMD5abc() {
        XCTAssertEqual(hexString(Digest.md5(ascii("abc"))), "900150983cd24fb0d6963f7d28e17f72")
    }

    /// RFC 1320 appendix A.5 test suite.
    func testMD4RFC1320() {
        let vectors: [(String, String)] = [
            ("", "31d6cfe0d16ae931b73c59d7e0c089c0"),
            ("a", "bde52cb31de33e46245e05fbdbd6fb24"),
            ("abc", "a448017aaf21d8525fc10ae87aa6729d"),
            ("message digest", "d9130a8164549fe818874806e1c7014b"),
            ("abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "043f8582f241db351ce627e153e7f0e4"),
            ("12345678901234567890123456789012345678901234567890123456789012345678901234567890",
             "e33b4ddc9c38f2199c3e7b164fcc0536"),
        ]
        for (input, expected) in vectors {
            XCTAssertEqual(hexString(Digest.md4(ascii(input))), expected, input)
        }
    }

    /// NT hash = MD4(UTF-16LE(password)), MS-NLMP 4.2.2.1.2 ("Password").
    func testNTHashOfPassword() {
        let utf16 = "Password".utf16.flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] }
        XCTAssertEqual(hexString(Digest.md4(utf16)), "a4f49c406510bdcab6824ee7c30fd852")
    }

    func testRandomBytes() {
        XCTAssertEqual(Random.bytes(0), [])
        let a = Random.bytes(32), b = Random.bytes(32)
        XCTAssertEqual(a.count, 32)
        XCTAssertNotEqual(a, b)
    }
}
