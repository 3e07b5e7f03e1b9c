import ArgumentParser

@main
struct MixLab: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mixlab",
        abstract: "Run data-mixing proxy sweeps, fit mixing laws and recommend the mixture for the full run.",
        version: "0.1.0",
        subcommands: [])
}
