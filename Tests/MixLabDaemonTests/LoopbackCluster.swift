import Foundation
import MixLabPKI
import MixLabTestSupport
import Testing

/// A whole MixLab deployment on loopback for one test: a throwaway CA and certificates, a
/// coordinator and workers as real `mixlab` processes, and the CLI run as a subprocess with the
/// client certificate in its environment.
final class LoopbackCluster: @unchecked Sendable {
    let directory: String
    let certs: String
    let databaseURL: String
    private(set) var coordinator: ChildProcess?
    private(set) var port = 0
    private var coordinatorStarts = 0
    private(set) var workers: [String: ChildProcess] = [:]
    let leaseSeconds: Double

    static let executable = MixLabExecutable.path

    static let repositoryRoot = MixLabExecutable.repositoryRoot

    /// `database`: nil for an SQLite file in the cluster's directory.
    init(database: String? = nil, leaseSeconds: Double = 4, workerNames: [String] = ["worker-1", "worker-2", "worker-3"]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mixlab-e2e-\(UUID().uuidString.prefix(8))").path
        certs = directory + "/certs"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        databaseURL = database ?? "sqlite:\(directory)/mixlab.db"
        self.leaseSeconds = leaseSeconds
        let ca = try CertificateAuthority.create()
        try ca.write(toDirectory: certs)
        try ca.issue(role: .coordinator, name: "coordinator").write(toDirectory: certs)
        try ca.issue(role: .client, name: "alice").write(toDirectory: certs)
        for name in workerNames { try ca.issue(role: .worker, name: name).write(toDirectory: certs) }
        try FileManager.default.copyItem(
            atPath: Self.repositoryRoot + "/clients/python/mixlab_trainer.py", toPath: directory + "/mixlab_trainer.py")
    }

    deinit {
        for worker in workers.values { worker.signal(SIGKILL) }
        coordinator?.signal(SIGKILL)
        try? FileManager.default.removeItem(atPath: directory)
    }

    var clientEnvironment: [String: String] {
        [
            "MIXLAB_COORDINATOR": "127.0.0.1:\(port)", "MIXLAB_CA": "\(certs)/ca.pem", "MIXLAB_CERT": "\(certs)/alice.pem",
            "MIXLAB_KEY": "\(certs)/alice.key", "HOME": directory,
        ]
    }

    /// Starts (or restarts, on the same port) the coordinator and waits until it listens.
    func startCoordinator(extra: [String] = []) async throws {
        let listen = port == 0 ? "127.0.0.1:0" : "127.0.0.1:\(port)"
        let process = try ChildProcess(
            Self.executable,
            [
                "coordinator", "--listen", listen, "--database", databaseURL, "--ca", "\(certs)/ca.pem", "--cert",
                "\(certs)/coordinator.pem", "--key", "\(certs)/coordinator.key", "--lease-seconds", "\(leaseSeconds)",
                "--heartbeat-seconds", "\(leaseSeconds / 4)",
            ] + extra,
            logPath: "\(directory)/coordinator-\(coordinatorStarts).log")
        coordinatorStarts += 1
        coordinator = process
        let output = try await process.waitForOutput(containing: "listening on", timeout: .seconds(120))
        if port == 0 {
            let line = output.split(separator: "\n").last { $0.contains("listening on") }!
            let address = line.split(separator: " ").first { $0.hasPrefix("127.0.0.1:") }!
            port = Int(address.split(separator: ":")[1])!
        }
    }

    func killCoordinator() async throws {
        coordinator?.signal(SIGKILL)
        try await coordinator?.wait()
    }

    func startWorker(_ name: String, cpuSlots: Int = 2, extra: [String] = []) throws {
        workers[name] = try ChildProcess(
            Self.executable,
            [
                "worker", "--coordinator", "127.0.0.1:\(port)", "--ca", "\(certs)/ca.pem", "--cert", "\(certs)/\(name).pem", "--key",
                "\(certs)/\(name).key", "--cpu-slots", "\(cpuSlots)", "--work-dir", "\(directory)/\(name)", "--host", name,
            ] + extra,
            environment: ["PYTHONPATH": directory],
            logPath: "\(directory)/\(name).log")
    }

    func killWorker(_ name: String) async throws {
        workers[name]?.signal(SIGKILL)
        try await workers[name]?.wait()
        workers[name] = nil
    }

    struct CLIResult {
        var status: Int32
        var output: String
    }

    /// Runs `mixlab ARGS` as the client `alice`.
    func cli(_ arguments: [String], environment: [String: String] = [:]) async throws -> CLIResult {
        let log = "\(directory)/cli-\(UUID().uuidString.prefix(8)).log"
        let process = try ChildProcess(Self.executable, arguments, environment: clientEnvironment.merging(environment) { $1 }, logPath: log)
        let status = try await process.wait(timeout: .seconds(180))
        return CLIResult(status: status, output: process.output)
    }

    func cliJSON(_ arguments: [String]) async throws -> [String: Any] {
        let result = try await cli(arguments + ["--json"])
        let start = result.output.firstIndex { $0 == "{" || $0 == "[" }
        guard result.status == 0, let start,
            let parsed = try? JSONSerialization.jsonObject(with: Data(result.output[start...].utf8))
        else {
            throw PostgresTestCluster.ClusterError("mixlab \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.output)")
        }
        // A listing is an array: return it under "items" (empty listings compare as empty).
        if let array = parsed as? [Any] { return array.isEmpty ? [:] : ["items": array] }
        return parsed as? [String: Any] ?? [:]
    }

    /// Writes a file into the cluster directory and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let path = "\(directory)/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Polls `sweep show` until the sweep is completed (or cancelled); returns the last status.
    func waitForSweep(_ id: String, timeout: Duration = .seconds(300)) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        var last: [String: Any] = [:]
        while ContinuousClock.now < deadline {
            last = try await cliJSON(["sweep", "show", id])
            if let state = last["state"] as? String, state == "completed" || state == "cancelled" { return last }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw PostgresTestCluster.ClusterError(
            "sweep \(id) did not complete in \(timeout): \(last)\ncoordinator:\n\(coordinator?.output.suffix(4000) ?? "")")
    }

    /// Every log a failing test should show.
    var diagnostics: String {
        var text = "coordinator:\n" + (coordinator?.output.suffix(6000) ?? "")
        for (name, worker) in workers.sorted(by: { $0.key < $1.key }) { text += "\n\(name):\n" + worker.output.suffix(3000) }
        return String(text)
    }
}

/// A trainer that speaks protocol 1: its loss for each domain falls with the domain's share, so
/// fits have signal. `SLEEP` seconds between evals keep runs alive long enough for fault tests.
let scriptedTrainer = """
    import json, math, os, sys, time
    import mixlab_trainer

    mix = mixlab_trainer.mixture()
    steps = int(os.environ.get("TRAINER_STEPS", "3"))
    pause = float(os.environ.get("TRAINER_SLEEP", "0.05"))
    marker = os.environ.get("TRAINER_PID_DIR")
    if marker:
        child = os.fork()
        if child == 0:
            os.execvp("sleep", ["sleep", "1000"])
        with open(os.path.join(marker, os.environ["MIXLAB_RUN_ID"].replace("/", "_") + ".pids"), "w") as f:
            f.write(f"{os.getpid()} {child}\\n")
    with mixlab_trainer.connect() as trainer:
        for step in range(1, steps + 1):
            time.sleep(pause)
            losses = {d: 2.0 + 1.5 * math.exp(-3.0 * share) / step for d, share in mix.items()}
            trainer.eval(step, step * 1000, losses)
        trainer.done()
    """

func sweepSpec(
    name: String, runs: Int, cluster: LoopbackCluster, maxAttempts: Int = 3, env: [String: String] = [:], extraTrainer: String = "",
    laws: String = ""
) -> String {
    let environment = (["PYTHONPATH": cluster.directory].merging(env) { $1 }).sorted { $0.key < $1.key }
        .map { "\($0.key): \"\($0.value)\"" }.joined(separator: ", ")
    return """
    name: \(name)
    domains:
      - {name: a, path: /data/a}
      - {name: b, path: /data/b}
      - {name: c, path: /data/c}
    design: {kind: dirichlet, runs: \(runs), seed: 1}
    trainer:
      command: ["python3", "\(cluster.directory)/trainer.py", "--run", "{run_id}"]
      resources: {cpus: 1}
      max_attempts: \(maxAttempts)
      env: {\(environment)}
    \(extraTrainer)
    \(laws)
    """
}
