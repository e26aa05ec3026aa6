import Logging
import SMBAuth
import SMBProtocol

/// What a mount asks of the client layer.
public struct ClientConfiguration: Sendable {
    public var host: String
    public var port: Int = 445
    public var share: String
    /// Dialects offered, lowest first (`vers=`).
    public var dialects: [Dialect] = Dialect.allCases
    public var credentials: NTLMCredentials
    /// Sign every request and require signed responses. Only `nosign` turns it off.
    public var signing = true
    public var connectTimeout: Duration = .seconds(5)
    /// `hard` (true): operations wait through an outage; `soft`: they fail while disconnected.
    public var hard = true
    /// ECHO after this long without traffic; a connection silent for twice as long is dead.
    public var echoInterval: Duration = .seconds(60)
    public var requestTimeout: Duration = .seconds(60)
    /// Largest READ payload asked for; the server's MaxReadSize caps it.
    public var maxIOSize = 1 << 20
    /// TCP connections bound to the session when the server offers SMB3 multichannel
    /// (MS-SMB2 3.2.4.2.3); 1 turns it off.
    public var maxChannels = 4
    /// Map characters SMB forbids in names to private-use characters (`mapposix`, default on).
    public var mapPosixNames = true
    public var logger: Logger

    public init(host: String, share: String, credentials: NTLMCredentials, logger: Logger) {
        self.host = host
        self.share = share
        self.credentials = credentials
        self.logger = logger
    }
}
