import MixLabCore
import Testing

@testable import MixLabRunner

@Suite("Attempt rules without processes")
struct AttemptStateMachineTests {
    let spec = AttemptSpec(
        runID: RunID("r"), sweepID: SweepID("s"), attempt: 1, domains: [DomainData(name: "a", path: "/a")],
        mixture: ["a": 1], command: ["true"], workDirectory: "/tmp/unused",
        limits: AttemptSpec.Limits(noReport: .seconds(10)))
    let start = ContinuousClock.now

    func line(_ text: String, connection: Int32 = 5) -> ControlSocket.Event {
        .line(connection: connection, bytes: Array(text.utf8))
    }

    @Test func aMessageBeforeHelloIsAProtocolError() {
        var machine = AttemptStateMachine(spec: spec, startedAt: start)
        let actions = machine.socketEvent(line(#"{"type":"progress","step":1,"tokens":1}"#), now: start)
        #expect(machine.stopReason?.cause == .protocolError)
        #expect(machine.stopReason?.message.contains("unexpected_message") == true)
        guard case .terminate(let note)? = actions.first else {
            Issue.record("expected terminate, got \(actions)")
            return
        }
        #expect(note.contains(#"offending line: {"type":"progress","step":1,"tokens":1}"#))
    }

    let eval = #"{"type":"eval","step":1,"tokens":1,"losses":{"a":1}}"#

    @Test func everyConnectionSaysHelloFirst() {
        var machine = AttemptStateMachine(spec: spec, startedAt: start)
        _ = machine.socketEvent(line(#"{"type":"hello","protocol":1}"#, connection: 5), now: start)
        _ = machine.socketEvent(line(eval, connection: 5), now: start)
        #expect(machine.stopReason == nil)
        _ = machine.socketEvent(line(eval, connection: 6), now: start)
        #expect(machine.stopReason?.cause == .protocolError)
    }

    @Test func evaluationOnlyDomainsOfTheSweepAreAcceptedOthersAreNot() {
        var withTest = spec
        withTest.evalDomains = ["a", "a.test"]
        var machine = AttemptStateMachine(spec: withTest, startedAt: start)
        _ = machine.socketEvent(line(#"{"type":"hello","protocol":1}"#), now: start)
        _ = machine.socketEvent(line(#"{"type":"eval","step":1,"tokens":1,"losses":{"a":2,"a.test":2.5}}"#), now: start)
        #expect(machine.stopReason == nil && machine.evalCount == 1)
        _ = machine.socketEvent(line(#"{"type":"eval","step":2,"tokens":2,"losses":{"a":2,"b.test":2.5}}"#), now: start)
        #expect(machine.stopReason?.message.contains("unknown_domain") == true)
    }

    @Test func linesAfterDoneAreIgnoredAndTheEvalBeforeDoneIsFinal() {
        var machine = AttemptStateMachine(spec: spec, startedAt: start)
        _ = machine.socketEvent(line(#"{"type":"hello","protocol":1}"#), now: start)
        _ = machine.socketEvent(line(#"{"type":"eval","step":1,"tokens":1,"losses":{"a":3}}"#), now: start)
        _ = machine.socketEvent(line(#"{"type":"eval","step":2,"tokens":2,"losses":{"a":2}}"#), now: start)
        _ = machine.socketEvent(line(#"{"type":"done"}"#), now: start)
        let late = machine.socketEvent(line(#"{"type":"eval","step":3,"tokens":3,"losses":{"a":1}}"#), now: start)
        #expect(machine.finalEval?.step == 2)
        #expect(machine.evalCount == 2)
        #expect(late == [.note("ignored a \"eval\" line after done")])
    }

    @Test func theWatchdogWaitsWhileANextIsBeingAnswered() {
        var machine = AttemptStateMachine(spec: spec, startedAt: start)
        _ = machine.socketEvent(line(#"{"type":"hello","protocol":1}"#), now: start)
        let asked = machine.socketEvent(line(#"{"type":"next","step":0}"#), now: start)
        #expect(asked.contains(.callNextHandler(connection: 5, step: 0)))
        #expect(machine.tick(now: start + .seconds(60)).isEmpty)
        let answered = machine.replyReady(connection: 5, step: 0, reply: .stop, now: start + .seconds(61))
        #expect(answered == [.send(.stop, connection: 5, step: 0)])
        #expect(machine.tick(now: start + .seconds(65)).isEmpty)
        #expect(machine.tick(now: start + .seconds(72)).count == 1)
        #expect(machine.stopReason?.cause == .timeout)
    }

    @Test func anUnterminatedLastLineIsOnlyNoted() {
        var machine = AttemptStateMachine(spec: spec, startedAt: start)
        _ = machine.socketEvent(line(#"{"type":"hello","protocol":1}"#), now: start)
        let actions = machine.socketEvent(.unterminated(connection: 5, bytes: Array(#"{"type":"ev"#.utf8)), now: start)
        #expect(machine.stopReason == nil)
        #expect(actions.count == 1)
    }

    @Test func theFirstReasonToStopWins() {
        var machine = AttemptStateMachine(spec: spec, startedAt: start)
        _ = machine.cancel()
        _ = machine.socketEvent(line("garbage"), now: start)
        #expect(machine.stopReason?.cause == .cancelled)
        #expect(machine.cancel().isEmpty)
    }

    @Test func afterExitTheSocketIsDrainedThenGivenUp() {
        var machine = AttemptStateMachine(spec: spec, startedAt: start)
        #expect(machine.processExited(.exited(code: 0), now: start) == [.finishSocket])
        #expect(!machine.isFinished)
        #expect(machine.tick(now: start + .seconds(1)).isEmpty)
        #expect(machine.tick(now: start + .seconds(4)) == [.closeSocket])
        #expect(machine.isFinished)
    }
}

@Suite("OOM kill counter")
struct OOMKillCounterTests {
    @Test func aCounterIsReadableOnLinux() {
        // /proc/vmstat has had oom_kill since Linux 4.13; the cgroup files are preferred when present.
        #expect(OOMKillCounter.read() != nil)
    }
}
