import MixLabCore
public import MixingLaws

extension OnlineSpec {
    /// The `params` keys an Aioli sweep may set, with the `AioliConfiguration` knob each sets.
    public static let aioliParameters: [String: String] = [
        "sweeps_per_round": "k, sweeps over the perturbed mixtures per round (default 4)",
        "interval_steps": "n, steps per perturbed mixture (default 4)",
        "one_hot_factor": "weight of the perturbed domain in its mixture (default: smoothing ε = 0.75)",
        "eta": "η, the step size of the proportions update (default 0.2)",
        "ema": "γ, weight of the previous interaction estimate (default: none)",
        "normalise": "1 to normalise the interaction matrix (default), 0 not to",
        "order_seed": "seed of the per-round order of the perturbed mixtures (default 0)",
    ]

    /// The default number of rounds when `rounds` is not given.
    public static let defaultAioliRounds = 10

    /// The controller configuration of one run: `totalSteps` from the run's budget, rounds of
    /// equal length after the optional initial phase of `init_steps` on the run's own mixture.
    public func aioliConfiguration(domainCount: Int, totalSteps: Int, initialMixture: [Double]) throws(MixLabInputError) -> AioliConfiguration {
        let initial = initSteps ?? 0
        let rounds = self.rounds ?? Self.defaultAioliRounds
        guard rounds >= 1, totalSteps > initial, (totalSteps - initial) % rounds == 0 else {
            throw MixLabInputError(
                field: "online.rounds", problem: "\(rounds) rounds do not divide the \(totalSteps - initial) steps after init_steps \(initial)",
                fix: "choose rounds that divide budget.steps − init_steps (e.g. budget.steps \(((totalSteps - initial) / max(rounds, 1) + 1) * rounds + initial))")
        }
        func integer(_ key: String) -> Int? { params[key].map { Int($0) } }
        return try AioliConfiguration(
            domainCount: domainCount, totalSteps: totalSteps, roundSteps: (totalSteps - initial) / rounds,
            sweepsPerRound: integer("sweeps_per_round") ?? 4, intervalSteps: integer("interval_steps") ?? 4,
            oneHotFactor: params["one_hot_factor"], eta: params["eta"] ?? 0.2, emaWeight: params["ema"],
            normalisesInteractions: (params["normalise"] ?? 1) != 0,
            initialPhase: initial > 0 ? .init(proportions: initialMixture, steps: initial) : nil,
            intervalOrder: .shuffled(seed: UInt64(max(0, integer("order_seed") ?? 0))))
    }
}
