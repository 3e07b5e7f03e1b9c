/// How a sweep chooses the mixtures (and, for D-CPT, the model sizes and token counts) of its
/// proxy runs. Every design is pure and deterministic: the same domains and seed give the same
/// points on every machine.
public enum SweepDesign: Sendable, Equatable, Codable {
    /// RegMix's capped, tempered Dirichlet sampler (laws.md §3.2).
    case regMix(RegMixSampler)
    /// All mixtures on a `1/k` lattice, optionally within per-domain bounds.
    case grid(SimplexGrid)
    /// A user-supplied, validated list of mixtures.
    case explicit(ExplicitMixtures)
    /// The D-CPT model-size × token × ratio grid over a general and a domain corpus.
    case dcpt(DCPTGrid)
    /// Aioli's merged-Dirichlet "cover" of the simplex.
    case dirichletCover(DirichletCover)

    /// Expands the design over `domains`; `seed` drives the sampled designs and is ignored by
    /// the deterministic ones.
    ///
    /// - Throws: ``DesignError`` naming the setting, row or domain that makes the design invalid.
    public func generate(domains: [String], seed: UInt64) throws -> GeneratedDesign {
        guard !domains.isEmpty else { throw DesignError("sweep design: no domains; list at least one") }
        var seen = Set<String>()
        for domain in domains where !seen.insert(domain).inserted {
            throw DesignError("sweep design: domain \(domain) is listed twice; list each domain once")
        }
        switch self {
        case .regMix(let sampler):
            return GeneratedDesign(domains: domains, mixtures: try sampler.sample(domains: domains, seed: seed))
        case .grid(let grid):
            return GeneratedDesign(domains: domains, mixtures: try grid.points(domains: domains))
        case .explicit(let list):
            return GeneratedDesign(domains: domains, mixtures: try list.validated(domains: domains))
        case .dcpt(let grid):
            return try grid.generate(domains: domains)
        case .dirichletCover(let cover):
            return GeneratedDesign(domains: domains, mixtures: try cover.sample(domains: domains, seed: seed))
        }
    }
}

extension GeneratedDesign {
    /// A design of mixtures only (no model size or token count per point).
    init(domains: [String], mixtures: [[Double]]) {
        self.init(domains: domains, points: mixtures.map { DesignPoint(shares: $0) })
    }
}
