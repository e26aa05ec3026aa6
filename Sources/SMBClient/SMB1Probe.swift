import NIOCore
import SMBProtocol

extension Handshake {
    /// After a server closed the connection on our SMB2 NEGOTIATE: asks once more with the
    /// multi-protocol NEGOTIATE (MS-SMB2 3.2.4.2.1, SMB2 dialects only) to tell a server that
    /// only speaks SMB1 from one that failed otherwise. True for SMB1-only; nothing goes on
    /// over SMB1 either way.
    static func serverSpeaksOnlySMB1(_ config: ClientConfiguration) async -> Bool {
        guard let conn = try? await Connection.dial(config, requestTimeout: min(config.requestTimeout, .seconds(10))) else {
            return false
        }
        defer { conn.close() }
        guard let id = try? await conn.acquireMessageId(charge: 1), id == 0,
              let channel = conn.currentChannel else { return false }
        do {
            _ = try await withCheckedThrowingContinuation { (c: CheckedContinuation<Response, Error>) in
                if let failure = conn.register(messageId: 0, command: .negotiate, continuation: c, protection: .none,
                                               request: nil, limit: conn.requestTimeout) {
                    c.resume(throwing: failure)
                    return
                }
                guard let (frame, _) = try? Connection.frame([MultiProtocolNegotiate.request()], sealedBy: nil,
                                                             allocator: channel.allocator) else {
                    c.resume(throwing: SMBError.connectionClosed("cannot frame the probe"))
                    return
                }
                conn.write(frame, on: channel)
            }
            return false                                   // an SMB2 answer
        } catch SMBError.smb1Response {
            return true
        } catch {
            return false
        }
    }
}
