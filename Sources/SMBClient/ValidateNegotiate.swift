import SMBProtocol

extension Handshake {
    /// MS-SMB2 3.2.5.5 (3.3.5.15.12 on the server): on 3.0 and 3.0.2, which have no preauth
    /// integrity, the client repeats its NEGOTIATE inside the signed session after TREE_CONNECT,
    /// and the server's signed answer must equal what NEGOTIATE said. A difference means someone
    /// rewrote the NEGOTIATE (a downgrade), and the connection ends. 3.1.1 binds the keys to the
    /// negotiation instead; 2.x cannot be protected this way.
    static func validateNegotiate(_ conn: Connection, negotiated n: Negotiated, treeId: UInt32) async throws {
        guard n.dialect == .smb300 || n.dialect == .smb302, conn.sessionSigner != nil || conn.isEncrypting else { return }
        let info = ValidateNegotiateInfo(capabilities: n.request.capabilities, guid: n.request.clientGuid,
                                         securityMode: n.request.securityMode, dialects: n.request.dialects)
        let max = UInt32(ValidateNegotiateInfo.responseSize)
        let body = IoctlRequest(ctlCode: FSCTL.FSCTL_VALIDATE_NEGOTIATE_INFO, fileId: .related,
                                input: info.encodeRequest(), maxOutputResponse: max).encodeBody()
        // Sent signed (or encrypted) like every request of the session; its response is verified.
        let r = try await conn.send(.ioctl, body: body, treeId: treeId)
        guard r.header.status == .success else {
            throw SMBError.securityPolicy("the server refused FSCTL_VALIDATE_NEGOTIATE_INFO (\(r.header.status)); "
                                          + "the negotiation cannot be verified, connection closed")
        }
        let answer: (capabilities: Capabilities, guid: [UInt8], securityMode: SecurityMode, dialect: UInt16)
        do {
            answer = try ValidateNegotiateInfo.decodeResponse(
                try IoctlResponse.decode(message: r.message, maxOutputResponse: max).output)
        } catch {
            throw SMBError.malformed("VALIDATE_NEGOTIATE_INFO: \(error)")
        }
        let resp = n.response
        guard answer.capabilities == resp.capabilities, answer.guid == resp.serverGuid,
              answer.securityMode == resp.securityMode, answer.dialect == n.dialect.rawValue else {
            conn.logger.error("VALIDATE_NEGOTIATE_INFO differs from NEGOTIATE", metadata: [
                "negotiate": "caps \(resp.capabilities.rawValue) mode \(resp.securityMode.rawValue) dialect \(n.dialect)",
                "validate": "caps \(answer.capabilities.rawValue) mode \(answer.securityMode.rawValue) dialect \(answer.dialect)",
            ])
            throw SMBError.securityPolicy("the server's answer to VALIDATE_NEGOTIATE_INFO differs from its NEGOTIATE "
                                          + "(the negotiation was altered on the way); connection closed")
        }
        conn.logger.debug("negotiation validated")
    }
}
