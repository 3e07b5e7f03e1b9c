import Foundation

/// The sweep specs the demo submits, as the YAML a user would write (`mixlab sweep submit` takes
/// the same text; the demo keeps a copy of each in the output folder).
enum DemoSweepSpecs {
    /// The Dirichlet sweep of proxy runs the laws are fitted to.
    static func search(_ configuration: DemoConfiguration, corpus: DemoCorpus) -> String {
        let domains = configuration.domains.map(\.rawValue)
        return """
            # Written by `mixlab demo`: \(configuration.runs) ProxyLM runs over \(domains.count) domains, fitted with \(configuration.laws.joined(separator: " and ")).
            name: demo-search
            description: \(quoted("Dirichlet sweep of ProxyLM proxy runs on " + corpus.description))
            \(domainsBlock(domains, corpus: corpus))
            # RegMix's sampler with concentrations from spread-out to near-equal mixtures, so the law
            # sees both the extremes and the region where the optimum of an average loss lies.
            design: {kind: dirichlet, runs: \(configuration.runs), seed: \(configuration.seed), strengths: [1, 2, 4, 8, 16]}
            \(trainerBlock(configuration))
            budget: {tokens: \(configuration.tokensPerRun), seed: \(configuration.seed)}
            # Every run starts from the same initial weights (common random numbers): the runs differ
            # only in their mixture, so the fit sees the mixture's effect and less seed noise.
            run_seeds: shared
            laws: [\(configuration.laws.joined(separator: ", "))]
            objective:
              targets: {\(domains.map { "\($0): \(equalWeight(domains.count))" }.joined(separator: ", "))}

            """
    }

    /// The validation sweep: the recommended and the stratified mixture, trained with the same
    /// fresh seeds (none of them was used by the search) and the same budget.
    static func verification(_ configuration: DemoConfiguration, corpus: DemoCorpus, recommended: [String: Double]) -> String {
        let domains = configuration.domains.map(\.rawValue)
        let recommendedText = domains.map { "\($0): \(recommended[$0] ?? 0)" }.joined(separator: ", ")
        let stratifiedText = domains.map { "\($0): \(equalWeight(domains.count))" }.joined(separator: ", ")
        let scales = verificationSeeds(configuration).map { "  - {tokens: \(configuration.tokensPerRun), seed: \($0)}" }
        return """
            # Written by `mixlab demo --verify`: point 0 is the recommended mixture, point 1 stratified.
            name: demo-verify
            description: \(quoted("recommended vs stratified on " + corpus.description))
            \(domainsBlock(domains, corpus: corpus))
            design:
              kind: list
              mixtures:
                - {\(recommendedText)}
                - {\(stratifiedText)}
            \(trainerBlock(configuration))
            scales:
            \(scales.joined(separator: "\n"))
            run_seeds: shared
            laws: []

            """
    }

    /// Seeds for verification runs, disjoint from the search's seed.
    static func verificationSeeds(_ configuration: DemoConfiguration) -> [Int] {
        (1...configuration.verifySeeds).map { configuration.seed + 1000 * $0 }
    }

    private static func domainsBlock(_ domains: [String], corpus: DemoCorpus) -> String {
        "domains:\n" + domains.map { "  - {name: \($0), path: \(quoted(corpus.path(of: $0)))}" }.joined(separator: "\n")
    }

    private static func trainerBlock(_ configuration: DemoConfiguration) -> String {
        let command = [
            configuration.executable, "proxy", "train", "--tokens", "{tokens}", "--seed", "{seed}", "--model-size", configuration.modelSize,
            "--eval-every", "0",
        ]
        return """
            trainer:
              command: [\(command.map(quoted).joined(separator: ", "))]
              resources: {cpus: 1}
              max_attempts: 2
              no_report_timeout: 5m
            """
    }

    private static func equalWeight(_ count: Int) -> String { "\(1.0 / Double(count))" }

    /// A YAML double-quoted scalar (JSON string syntax, which YAML accepts).
    static func quoted(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        let array = String(decoding: data, as: UTF8.self)
        return String(array.dropFirst().dropLast())
    }
}
