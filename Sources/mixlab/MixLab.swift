import ArgumentParser
import Foundation
import MixLabCore
import MixingLaws
import MixLabStore

@main
struct MixLab: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mixlab",
        abstract: "Run data-mixing proxy sweeps, fit mixing laws and recommend the mixture for the full run.",
        version: "0.1.0",
        subcommands: [
            SweepCommand.self, Runs.self, Workers.self, Export.self, Fit.self, CrossDomain.self, MixtureCommand.self, CoordinatorCommand.self,
            WorkerCommand.self, Certs.self, Database.self, Bench.self, CorpusCommand.self, Proxy.self, Demo.self,
        ])

    /// Every failure caused by input (a bad flag, file, column or value) prints one line and exits
    /// with status 2; help and version exit 0.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as MixLabInputError {
            fail("error: \(error.description)")
        } catch let error as StoreError {
            // A store that cannot be reached is a failure (1); an unknown sweep is bad input (2).
            fail("error: \(error.description)", status: [.unknownSweep, .invalidURL].contains(error.code) ? 2 : 1)
        } catch let error as SpecErrors {
            fail(error.description)
        } catch let error as RemoteError {
            fail("error: \(error.description)", status: error.status)
        } catch let error as LawFitError {
            fail("error: \(error.description)")
        } catch let error as ExitFailure {
            fail(error.message, status: 1)
        } catch {
            if exitCode(for: error) == .success || error is ExitCode { exit(withError: error) }
            fail(fullMessage(for: error))
        }
    }

    static func fail(_ message: String, status: Int32 = 2) -> Never {
        FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
        Foundation.exit(status)
    }

    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }
}
