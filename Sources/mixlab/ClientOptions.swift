import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import MixLabCore
import MixLabPKI
import MixLabRPC
import MixLabTransport
import Yams

/// How a CLI command reaches the coordinator: flags, then `MIXLAB_*` environment, then
/// `~/.mixlab/config.yaml` (`coordinator`, `ca`, `cert`, `key`).
struct ClientOptions: ParsableArguments {
    @Option(help: "Coordinator address HOST:PORT (env MIXLAB_COORDINATOR).") var coordinator: String?
    @Option(help: "CA certificate (env MIXLAB_CA).") var ca: String?
    @Option(help: "Client certificate (env MIXLAB_CERT).") var cert: String?
    @Option(help: "Client key, mode 0600 (env MIXLAB_KEY).") var key: String?

    struct Resolved {
        var host: String
        var port: Int
        var materials: TLSMaterials
    }

    func resolve() async throws -> Resolved {
        let environment = ProcessInfo.processInfo.environment
        let file = try Self.configFile()
        func pick(_ flag: String?, _ variable: String, _ key: String) -> String? {
            flag ?? environment[variable] ?? file[key]
        }
        guard let address = pick(coordinator, "MIXLAB_COORDINATOR", "coordinator") else {
            throw MixLabInputError(
                field: "--coordinator", problem: "no coordinator address given",
                fix: "pass --coordinator HOST:PORT, set MIXLAB_COORDINATOR, or add `coordinator: HOST:PORT` to ~/.mixlab/config.yaml")
        }
        let (host, port) = try parseAddress(address, field: "--coordinator")
        var paths: [String] = []
        for (flag, variable, key) in [(ca, "MIXLAB_CA", "ca"), (cert, "MIXLAB_CERT", "cert"), (self.key, "MIXLAB_KEY", "key")] {
            guard let path = pick(flag, variable, key) else {
                throw MixLabInputError(
                    field: "--\(key)", problem: "no \(key) file given",
                    fix: "pass --\(key) FILE, set \(variable), or add `\(key): FILE` to ~/.mixlab/config.yaml (`mixlab certs issue --role client NAME` makes one)")
            }
            paths.append(path)
        }
        let materials = try await TLSMaterials.load(
            TLSFiles(caPath: paths[0], certificatePath: paths[1], keyPath: paths[2]), expectedRole: .client)
        return Resolved(host: host, port: port, materials: materials)
    }

    static func configFile() throws -> [String: String] {
        let path = (NSHomeDirectory() as NSString).appendingPathComponent(".mixlab/config.yaml")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        do {
            guard let object = try Yams.load(yaml: text) as? [String: Any] else { return [:] }
            return object.compactMapValues { "\($0)" }
        } catch {
            throw MixLabInputError(field: path, problem: "is not valid YAML (\(error))", fix: "fix or remove the file")
        }
    }

    /// Runs `body` with an admin client; RPC failures become one-line errors with the right exit code.
    func withAdmin<T: Sendable>(_ body: (Mixlab_V1_Admin.Client<HTTP2ClientTransport.Posix>) async throws -> T) async throws -> T {
        let resolved = try await resolve()
        do {
            return try await MixLabTLS.withAdminClient(host: resolved.host, port: resolved.port, materials: resolved.materials, body)
        } catch let error as RPCError {
            throw RemoteError(error, address: "\(resolved.host):\(resolved.port)")
        }
    }
}

/// An RPC failure as the CLI reports it: bad requests exit 2, an unreachable or failing coordinator 1.
struct RemoteError: Error, CustomStringConvertible {
    var description: String
    var status: Int32

    init(_ error: RPCError, address: String) {
        switch error.code {
        case .invalidArgument, .notFound, .failedPrecondition, .permissionDenied, .alreadyExists, .outOfRange:
            description = error.message
            status = 2
        case .unavailable:
            description = "cannot reach the coordinator at \(address): \(error.message) (is it running? is this client's certificate issued by its CA and unexpired?)"
            status = 1
        case .unauthenticated:
            description = "the coordinator at \(address) refused this client: \(error.message)"
            status = 2
        default:
            description = "coordinator at \(address): \(error.code): \(error.message)"
            status = 1
        }
    }
}

/// Splits `HOST:PORT` (IPv6 as `[::1]:7443`).
func parseAddress(_ text: String, field: String) throws -> (String, Int) {
    var host = Substring(text)
    var portText: Substring = ""
    if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
        host = text[text.index(after: text.startIndex)..<close]
        portText = text[text.index(after: close)...].drop { $0 == ":" }
    } else if let colon = text.lastIndex(of: ":") {
        host = text[..<colon]
        portText = text[text.index(after: colon)...]
    }
    guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else {
        throw MixLabInputError(field: "\(field) \(text)", problem: "is not HOST:PORT", fix: "write it like 127.0.0.1:7443 or head-node:7443")
    }
    return (String(host), port)
}

/// Output format flags shared by listings.
struct ListingFormat: ParsableArguments {
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print CSV.") var csv = false
}
