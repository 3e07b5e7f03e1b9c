import MixLabCore
import SwiftASN1
import X509

/// What a certificate's holder may do in a MixLab deployment.
///
/// The role lives in the certificate itself: every leaf that `mixlab certs issue` writes has the subject
/// `O=MixLab, OU=<role>, CN=<name>`. Readers take the role from the **OU** attribute alone and the name from the
/// **CN**; the O attribute is informational. A certificate must carry exactly one OU, and it must be one of these
/// raw values.
public enum MixLabRole: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Runs the coordinator daemon: serves gRPC (server certificate) and may also dial out.
    case coordinator
    /// Runs a worker daemon: opens a worker session to the coordinator.
    case worker
    /// A person or script using the admin API through the `mixlab` CLI.
    case client

    public var description: String { rawValue }

    /// Parses a role named on the command line or in a config file.
    ///
    /// - Parameter field: what to name in the error, e.g. `--role`.
    public init(parsing text: String, field: String = "--role") throws {
        guard let role = MixLabRole(rawValue: text.lowercased()) else {
            throw MixLabInputError(
                field: field, problem: "unknown role '\(text)'",
                fix: "use one of \(MixLabRole.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = role
    }

    /// Reads the role from a certificate's subject OU.
    ///
    /// Throws when the subject has no OU, several OUs, or an OU that is not a MixLab role.
    public init(certificate: Certificate) throws {
        let units = certificate.subject.attributeValues(of: .RDNAttributeType.organizationalUnitName)
        guard units.count == 1, let role = MixLabRole(rawValue: units[0]) else {
            let found = units.isEmpty ? "no OU" : "OU=\(units.joined(separator: ", OU="))"
            throw MixLabInputError(
                field: "certificate '\(certificate.subject)'",
                problem: "has \(found), so it names no MixLab role",
                fix: "use a certificate from `mixlab certs issue --role coordinator|worker|client NAME`")
        }
        self = role
    }

    /// The extended key usages a leaf for this role carries. Only the coordinator serves TLS.
    var extendedKeyUsages: [ExtendedKeyUsage.Usage] {
        switch self {
        case .coordinator: [.serverAuth, .clientAuth]
        case .worker, .client: [.clientAuth]
        }
    }
}

/// Who is on the other end of a connection (or who owns a certificate): the certificate's CN and OU role.
public struct PeerIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The subject common name, e.g. `gpu-node-3`.
    public var name: String
    public var role: MixLabRole

    public init(name: String, role: MixLabRole) {
        self.name = name
        self.role = role
    }

    /// Reads the CN and the OU role of a certificate, such as the verified peer certificate of a TLS connection.
    ///
    /// Throws when the subject has no single CN or no MixLab role.
    public init(certificate: Certificate) throws {
        let names = certificate.subject.attributeValues(of: .RDNAttributeType.commonName)
        guard names.count == 1, !names[0].isEmpty else {
            throw MixLabInputError(
                field: "certificate '\(certificate.subject)'",
                problem: names.isEmpty ? "has no CN (common name)" : "has \(names.count) CNs",
                fix: "use a certificate from `mixlab certs issue --role ROLE NAME`")
        }
        self.init(name: names[0], role: try MixLabRole(certificate: certificate))
    }

    public var description: String { "\(role) \(name)" }

    /// Throws `RoleNotAllowed` unless this identity's role is one of `allowed`; `action` names the call in the
    /// message (e.g. `submit a sweep`). The gRPC layer maps the error to `permissionDenied`.
    public func authorize(_ allowed: Set<MixLabRole>, to action: String) throws(RoleNotAllowed) {
        guard allowed.contains(role) else { throw RoleNotAllowed(identity: self, allowed: allowed, action: action) }
    }
}

/// A peer whose certificate role may not make a call: `worker w1 may not submit a sweep (needs a client certificate)`.
public struct RoleNotAllowed: Error, Sendable, Hashable, CustomStringConvertible {
    public var identity: PeerIdentity
    public var allowed: Set<MixLabRole>
    public var action: String

    public var description: String {
        let roles = MixLabRole.allCases.filter(allowed.contains).map(\.rawValue).joined(separator: " or ")
        return "\(identity) may not \(action) (needs a \(roles) certificate)"
    }
}

extension DistinguishedName {
    /// The string values of every attribute of one type, in subject order.
    func attributeValues(of type: ASN1ObjectIdentifier) -> [String] {
        flatMap { $0 }.filter { $0.type == type }.map { String($0.value) ?? $0.value.description }
    }
}
