extension RecommendationBootstrap {
    /// Bootstraps the recommendation of a ``MixtureLawFitter``: each resample of runs is refitted
    /// and `solve` turns the fit into shares; the predicted loss is the fit's prediction there.
    /// Without `groups`, runs with identical mixtures are resampled together.
    public func run(
        _ fitter: any MixtureLawFitter, runs: MixtureRuns, groups: [Int]? = nil,
        solve: @Sendable (FittedMixtureLaw) throws -> [Double]
    ) throws -> RecommendationInterval {
        try run(groups: groups ?? CrossValidation.groupsByMixture(runs.mixtures)) { rows in
            let fit = try fitter.fit(runs.subset(rows))
            let shares = try solve(fit)
            return Estimate(shares: shares, predictedLoss: fit.predict(shares))
        }
    }

    /// Bootstraps the recommendation derived from a ``ParametricLaw`` fit (for example a D-CPT
    /// ratio): each resample of groups is refitted with `fitter` and `solve` returns the estimate.
    public func run<Law: ParametricLaw, Group: Hashable>(
        _ law: Law, data: LawDataset, groups: [Group], fitter: LawFitter = LawFitter(), starts: [[Double]]? = nil,
        solve: @Sendable (FittedLaw<Law>) throws -> Estimate
    ) throws -> RecommendationInterval {
        try run(groups: groups) { rows in
            try solve(try fitter.fit(law, to: data.subset(rows), starts: starts))
        }
    }
}
