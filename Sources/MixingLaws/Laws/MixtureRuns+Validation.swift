/// Checks shared by the mixture-law fitters, so every fitter rejects the same bad inputs with
/// the same messages.
extension MixtureRuns {
    /// The runs' shares as points of the simplex (each row divided by its sum, because published
    /// tables are rounded), after checking the inputs a fit by `law` needs.
    ///
    /// - Throws: ``LawFitError`` naming the run, domain or target for fewer runs than
    ///   `minimumRuns`, a negative or non-finite share, a run whose shares are all zero, a
    ///   non-finite or (with `positiveLosses`) non-positive loss, or a negative target weight.
    func validatedShares(law: String, minimumRuns: Int, positiveLosses: Bool) throws -> [[Double]] {
        guard !domains.isEmpty else { throw LawFitError("\(law): the runs have no domains; give one share column per domain") }
        guard !targetNames.isEmpty else { throw LawFitError("\(law): the runs have no target; select at least one loss column to fit") }
        guard count >= minimumRuns else {
            throw LawFitError(
                "\(law): \(count) run(s) for \(domains.count) domain(s), but this law needs at least \(minimumRuns) "
                    + "(one per identifiable parameter per target); add runs or use a law with fewer parameters")
        }
        for (name, weight) in zip(targetNames, targetWeights) where !(weight.isFinite && weight >= 0) {
            throw LawFitError("\(law): target \"\(name)\" has weight \(weight); target weights must be finite and non-negative")
        }
        var shares: [[Double]] = []
        shares.reserveCapacity(count)
        for (run, row) in mixtures.enumerated() {
            guard row.count == domains.count else {
                throw LawFitError("\(law): run \(run + 1) has \(row.count) shares for \(domains.count) domains; give one share per domain")
            }
            for (domain, share) in zip(domains, row) where !(share.isFinite && share >= 0) {
                throw LawFitError("\(law): run \(run + 1) has share \(share) for domain \"\(domain)\"; shares must be finite and non-negative")
            }
            let sum = row.reduce(0, +)
            guard sum > 0 else { throw LawFitError("\(law): run \(run + 1) has every share zero; give its mixture or drop the run") }
            shares.append(row.map { $0 / sum })
            for (target, loss) in zip(targetNames, targetLosses[run]) {
                guard loss.isFinite, !positiveLosses || loss > 0 else {
                    throw LawFitError(
                        "\(law): run \(run + 1) has loss \(loss) for target \"\(target)\"; losses must be finite"
                            + (positiveLosses ? " and positive" : "") + " (drop or fix the run)")
                }
            }
        }
        return shares
    }
}
