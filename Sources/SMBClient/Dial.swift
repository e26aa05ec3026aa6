import Logging
import NIOCore
import NIOPosix
import SMBProtocol

extension Connection {
    /// The connection a configuration asks for: Direct TCP to its port, or the NetBIOS session
    /// service on port 139; with `netbiosFallback`, port 139 when nothing answers on 445.
    /// Every failure is one `SMBError.connectFailed` line.
    static func dial(_ config: ClientConfiguration, connectTimeout: Duration? = nil, requestTimeout: Duration? = nil,
                     logger: Logger? = nil) async throws -> Connection {
        let connectTimeout = timeAmount(connectTimeout ?? config.connectTimeout)
        let requestTimeout = timeAmount(requestTimeout ?? config.requestTimeout)
        let logger = logger ?? config.logger
        if config.port == NetBIOSSession.port {
            return try await callNetBIOS(config, connectTimeout: connectTimeout, requestTimeout: requestTimeout, logger: logger)
        }
        do {
            return try await open(host: config.dialHost, port: config.port, addresses: config.hostTable[config.dialHost.lowercased()],
                                  connectTimeout: connectTimeout, requestTimeout: requestTimeout, logger: logger)
        } catch let e as Unanswered {
            guard config.netbiosFallback, config.port == 445, e.refusedOrTimedOut else { throw SMBError.connectFailed(e.message) }
            logger.warning("nothing answers on port 445; trying the NetBIOS session service on port 139 (netbios_fallback)",
                           metadata: ["error": "\(e.message)"])
            return try await callNetBIOS(config, connectTimeout: connectTimeout, requestTimeout: requestTimeout, logger: logger)
        }
    }

    /// Port 139: SESSION REQUEST with the server's NetBIOS name (`servern=`, else the host
    /// name's first label), once more with *SMBSERVER when that name is refused as unknown
    /// and none was given, and following one RETARGET (RFC 1002 4.3.5).
    private static func callNetBIOS(_ config: ClientConfiguration, connectTimeout: TimeAmount, requestTimeout: TimeAmount,
                                    logger: Logger) async throws -> Connection {
        let calling = config.clientNetBIOSName ?? NetBIOSSession.name(ofHost: config.credentials.workstation) ?? "SMB3FS"
        var names = [config.serverNetBIOSName ?? NetBIOSSession.name(ofHost: config.host) ?? NetBIOSSession.anyServer]
        if config.serverNetBIOSName == nil && names[0] != NetBIOSSession.anyServer { names.append(NetBIOSSession.anyServer) }
        var host = config.dialHost, port = NetBIOSSession.port, retargeted = false
        var i = 0
        while true {
            let call = NetBIOSCall(called: names[i], calling: calling)
            do {
                return try await open(host: host, port: port, netbios: call, addresses: config.hostTable[host.lowercased()],
                                      connectTimeout: connectTimeout, requestTimeout: requestTimeout, logger: logger)
            } catch let e as Unanswered {
                throw SMBError.connectFailed(e.message)
            } catch let e as NegativeSessionResponse {
                // 0x80 and 0x82: the name is not one the server answers to (RFC 1002 4.3.4).
                guard [0x80, 0x82].contains(e.code), i + 1 < names.count else { throw SMBError.connectFailed(e.message) }
                logger.warning("NetBIOS name refused; calling \(names[i + 1]) instead", metadata: ["error": "\(e.message)"])
                i += 1
            } catch let r as Retarget {
                guard !retargeted else {
                    throw SMBError.connectFailed("\(host) port \(port) redirected the NetBIOS session again (to \(r.address) port \(r.port))")
                }
                logger.info("NetBIOS session redirected", metadata: ["to": "\(r.address):\(r.port)"])
                (host, port, retargeted) = (r.address, r.port, true)
            }
        }
    }
}

/// Host names answered from a table rather than the system's resolver (SMB3FS_HOSTS, which
/// tests use to give one name several addresses). Connects then try each address as NIO's
/// Happy Eyeballs connector (RFC 8305) does for resolved names: IPv6 and IPv4 interleaved,
/// the next attempt once one fails or after a short delay.
struct HostTableResolver: Resolver, Sendable {
    let addresses: [String]
    let port: Int
    let loop: EventLoop

    func initiateAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        loop.makeSucceededFuture(answer(ipv6: false))
    }

    func initiateAAAAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        loop.makeSucceededFuture(answer(ipv6: true))
    }

    func cancelQueries() {}

    private func answer(ipv6: Bool) -> [SocketAddress] {
        addresses.filter { $0.contains(":") == ipv6 }.compactMap { try? SocketAddress(ipAddress: $0, port: port) }
    }

    /// "name=address,address;name=address" into its table; entries that do not parse are left out.
    static func table(_ spec: String) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for entry in spec.split(separator: ";") {
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let list = parts[1].split(separator: ",").map(String.init).filter { (try? SocketAddress(ipAddress: $0, port: 0)) != nil }
            if !list.isEmpty { out[parts[0].lowercased()] = list }
        }
        return out
    }
}
