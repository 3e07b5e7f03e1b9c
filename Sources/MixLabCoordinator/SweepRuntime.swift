import Foundation
import MixLabAnalysis
import MixLabCore
import MixLabSweeps

/// What the coordinator needs from a sweep's resolved spec to run and judge its attempts:
/// the trainer command and environment, data paths, limits and the retry policy.
struct SweepRuntime: Sendable {
    var domains: [String]
    var domainPaths: [String: String]
    var evalDomains: [String]
    var command: [String]
    var environment: [String: String]
    var timeLimitSeconds: Double
    var noReportTimeoutSeconds: Double
    var killGraceSeconds: Double
    /// nil: any failure is retried while attempts are left.
    var retryOnExitCodes: Set<Int32>?
    /// A failure whose log tail matches one of these is not retried (e.g. CUDA out of memory).
    var noRetryLogPatterns: [String]
    var seed: Int64
    var laws: [String]
    /// Target eval domain → weight, for fits and the recommended mixture.
    var objective: [String: Double]
    /// The general and the domain corpus of a `dcpt` design (nil for other designs).
    var dcpt: (general: String, domain: String)? = nil
    /// The online method that answers the trainers' `next` (nil: static mixtures).
    var online: OnlineSpec? = nil
    /// Preempted attempts of a run that are re-queued without using up an attempt.
    var maxPreemptions = TrainerSpec.defaultMaxPreemptions

    /// Whether a run is driven online: every run of an online sweep except its `online.compare`
    /// baselines (a run stored before budgets named their method counts as online).
    func isOnline(budgetJSON: String) -> Bool {
        SweepSpec.isOnlineRun(method: Self.mixingMethod(ofBudget: budgetJSON), online: online)
    }

    /// The trainer command of a run: `online.command` (default `trainer.command`) for online runs,
    /// `trainer.command` for every other run.
    func command(budgetJSON: String) -> [String] {
        isOnline(budgetJSON: budgetJSON) ? online?.command ?? command : command
    }

    /// The method a run's budget names (`mixing_method`), if any.
    static func mixingMethod(ofBudget json: String) -> ComparedMethod? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let name = object[BudgetSpec.mixingMethodKey] as? String
        else { return nil }
        return ComparedMethod(rawValue: name)
    }

    /// Whether a failed attempt may be retried under this sweep's policy.
    func allowsRetry(cause: FailureCause, exitCode: Int32?, logTail: String) -> Bool {
        if cause == .cancelled { return false }
        // A hand-back says nothing about the run: its exit code and log do not count.
        if cause == .preempted { return true }
        if let codes = retryOnExitCodes, cause == .exitCode {
            guard let exitCode, codes.contains(exitCode) else { return false }
        }
        for pattern in noRetryLogPatterns {
            if let regex = try? NSRegularExpression(pattern: pattern),
                regex.firstMatch(in: logTail, range: NSRange(logTail.startIndex..., in: logTail)) != nil
            {
                return false
            }
        }
        return true
    }
}
