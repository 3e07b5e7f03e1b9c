import MixLabCore

/// Which sweeps may be about to get new fits: a run completion or a lease-expiry pass that may end
/// them is under way, or their fit is queued or running. Each hold is taken *before* the store call
/// that may complete the sweep and released only after the fit it leads to is queued (which takes a
/// hold of its own), so nobody sees a sweep completed while its fits are neither stored nor pending.
/// `sweep watch` ends once none is pending; `sweep mixture` and `sweep fits` say "being fitted".
struct PendingFits: Sendable {
    private var holds: [SweepID: Int] = [:]
    private var expiryPasses = 0

    mutating func hold(_ sweep: SweepID) { holds[sweep, default: 0] += 1 }

    mutating func release(_ sweep: SweepID) {
        let left = holds[sweep, default: 0] - 1
        holds[sweep] = left > 0 ? left : nil
    }

    /// A lease-expiry pass may end any sweep: it counts as a hold on all of them while it runs.
    mutating func beginExpiryPass() { expiryPasses += 1 }
    mutating func endExpiryPass() { expiryPasses = max(0, expiryPasses - 1) }

    func isPending(_ sweep: SweepID) -> Bool { holds[sweep] != nil || expiryPasses > 0 }
}
