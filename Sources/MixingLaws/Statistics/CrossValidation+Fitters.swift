extension CrossValidation {
    /// Cross-validates a ``ParametricLaw`` fitted with `fitter`, predicting each held-out row's
    /// loss from its raw features.
    public func evaluate<Law: ParametricLaw, Group: Hashable>(
        _ law: Law, data: LawDataset, groups: [Group], fitter: LawFitter = LawFitter(), starts: [[Double]]? = nil
    ) throws -> CrossValidationReport {
        try evaluate(observed: data.losses, groups: groups) { training, heldOut in
            let fit = try fitter.fit(law, to: data.subset(training), starts: starts)
            return heldOut.map { fit.predict(Array(data.row($0))) }
        }
    }

    /// Cross-validates a ``MixtureLawFitter`` on the runs' aggregated loss. Without `groups`,
    /// runs with identical mixtures form one group.
    public func evaluate(_ fitter: any MixtureLawFitter, runs: MixtureRuns, groups: [Int]? = nil) throws -> CrossValidationReport {
        let minimum = fitter.minimumRuns(domains: runs.domains.count, targets: runs.targetNames.count)
        return try evaluate(observed: runs.aggregatedLosses, groups: groups ?? Self.groupsByMixture(runs.mixtures)) { training, heldOut in
            guard training.count >= minimum else {
                throw LawFitError(
                    "the training folds have \(training.count) runs but \(fitter.name) needs at least \(minimum); use fewer folds or more runs")
            }
            let fit = try fitter.fit(runs.subset(training))
            return heldOut.map { fit.predict(runs.mixtures[$0]) }
        }
    }
}
