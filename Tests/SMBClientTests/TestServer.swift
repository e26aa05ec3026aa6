import Foundation
import Logging
import SMBAuth
import SMBClient
import SMBProtocol
import XCTest

/// The Samba server Scripts/test starts, described by its environment.
struct TestServer {
    let host: String
    let user: String
    let password: String
    let share: String
    /// The share's directory on the server side, for checking what the client reads.
    let sharePath: String

    static func main() throws -> TestServer {
        let env = ProcessInfo.processInfo.environment
        guard let host = env["SMB3FS_TEST_HOST"], let user = env["SMB3FS_TEST_USER"],
              let pass = env["SMB3FS_TEST_PASS"], let share = env["SMB3FS_TEST_SHARE"],
              let path = env["SMB3FS_TEST_SHARE_PATH"] else {
            XCTFail("SMB3FS_TEST_* is not set: run through Scripts/test, which starts the Samba server")
            throw CancellationError()
        }
        return TestServer(host: host, user: user, password: pass, share: share, sharePath: path)
    }

    /// The dialect-capped servers: "dialect,host,path;..." in SMB3FS_DIALECT_SERVERS.
    static func dialectServers() throws -> [(dialect: String, server: TestServer)] {
        let main = try main()
        guard let spec = ProcessInfo.processInfo.environment["SMB3FS_DIALECT_SERVERS"] else {
            XCTFail("SMB3FS_DIALECT_SERVERS is not set: run through Scripts/test")
            throw CancellationError()
        }
        return spec.split(separator: ";").compactMap { item in
            let f = item.split(separator: ",").map(String.init)
            guard f.count == 3 else { return nil }
            return (f[0], TestServer(host: f[1], user: main.user, password: main.password, share: main.share, sharePath: f[2]))
        }
    }

    /// Bookworm-backports' Samba 4.22 with `smb3 unix extensions` (SMB3FS_POSIX_HOST).
    static func posix() throws -> TestServer {
        let main = try main()
        let env = ProcessInfo.processInfo.environment
        guard let host = env["SMB3FS_POSIX_HOST"], let path = env["SMB3FS_POSIX_SHARE_PATH"] else {
            XCTFail("SMB3FS_POSIX_HOST is not set: run through Scripts/test")
            throw CancellationError()
        }
        return TestServer(host: host, user: main.user, password: main.password, share: main.share, sharePath: path)
    }

    func configuration(password: String? = nil, share: String? = nil) -> ClientConfiguration {
        var logger = Logger(label: "test")
        logger.logLevel = .info
        return ClientConfiguration(host: host, share: share ?? self.share,
                                   credentials: NTLMCredentials(user: user, password: password ?? self.password,
                                                                domain: "", workstation: "TESTCLIENT"),
                                   logger: logger)
    }
}
