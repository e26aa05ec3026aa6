import SMBClient
import XCTest

/// Which addresses count as the local network (no encryption by default) and which as public.
final class AddressScopeTests: XCTestCase {
    func testLocalAddresses() {
        for a in ["127.0.0.1", "127.255.1.2", "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.254",
                  "192.168.1.10", "169.254.3.4", "::1", "fe80::1", "febf::1", "fd12:3456::1", "fc00::5",
                  "::ffff:192.168.0.1", "::ffff:127.0.0.13"] {
            XCTAssertEqual(AddressScope.of(a), .local, a)
        }
    }

    func testPublicAddresses() {
        for a in ["8.8.8.8", "172.15.255.255", "172.32.0.1", "192.169.0.1", "169.253.1.1", "11.0.0.1",
                  "100.64.0.1", "1.1.1.1", "2001:db8::1", "2a00:1450::1", "fec0::1", "::ffff:8.8.4.4", "::",
                  "", "nas.example", "999.1.1.1", "127.0.0.1 "] {
            XCTAssertEqual(AddressScope.of(a), .publicNetwork, a)
        }
    }
}
