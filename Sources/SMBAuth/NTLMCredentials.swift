/// What NTLM needs to know about the user (MS-NLMP 3.1.1: User, UserDom, Passwd, Workstation).
public struct NTLMCredentials: Sendable {
    public var user: String
    public var password: String
    public var domain: String
    public var workstation: String

    public init(user: String, password: String, domain: String, workstation: String) {
        self.user = user
        self.password = password
        self.domain = domain
        self.workstation = workstation
    }
}
