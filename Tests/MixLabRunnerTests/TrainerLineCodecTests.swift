import MixLabRunner
import Testing

@Suite("Trainer protocol lines")
struct TrainerLineCodecTests {
    let codec = TrainerLineCodec(domains: ["code", "prose"], maxLineBytes: 256)

    func decode(_ line: String) throws(TrainerProtocolError) -> TrainerMessage {
        try codec.decode(line: Array(line.utf8))
    }

    @Test func decodesEveryMessageOfTheContract() throws {
        #expect(try decode(#"{"type":"hello","protocol":1}"#) == .hello(protocolVersion: 1))
        #expect(try decode(#"{"type":"eval","step":5,"tokens":640,"losses":{"code":2.31,"prose":3}}"#)
                    == .eval(TrainerEval(step: 5, tokens: 640, losses: ["code": 2.31, "prose": 3])))
        #expect(try decode(#"{"type":"progress","step":6,"tokens":768}"#) == .progress(step: 6, tokens: 768))
        #expect(try decode(#"{"type":"done"}"#) == .done)
        #expect(try decode(#" {"type":"next","step":100} "#) == .next(step: 100))
    }

    @Test func ignoresUnknownFieldsAndACarriageReturn() throws {
        #expect(try decode("{\"type\":\"progress\",\"step\":1,\"tokens\":2,\"lr\":0.001,\"x\":[1,{}]}\r")
                    == .progress(step: 1, tokens: 2))
        #expect(try decode(#"{"type":"progress","step":1.0,"tokens":2e3}"#) == .progress(step: 1, tokens: 2000))
    }

    @Test(arguments: [
        (#"not json"#, TrainerProtocolError.Kind.malformedJSON),
        (#"{"type":"eval","step":1"#, .malformedJSON),
        (#"[1,2]"#, .malformedJSON),
        (#"{"type":"done"} trailing"#, .malformedJSON),
        (#"{"step":1}"#, .missingField),
        (#"{"type":7}"#, .invalidField),
        (#"{"type":"checkpoint"}"#, .unknownType),
        (#"{"type":"hello"}"#, .missingField),
        (#"{"type":"hello","protocol":"1"}"#, .invalidField),
        (#"{"type":"hello","protocol":2}"#, .unsupportedProtocol),
        (#"{"type":"eval","tokens":1,"losses":{"code":1}}"#, .missingField),
        (#"{"type":"eval","step":1,"losses":{"code":1}}"#, .missingField),
        (#"{"type":"eval","step":1,"tokens":1}"#, .missingField),
        (#"{"type":"eval","step":-1,"tokens":1,"losses":{"code":1}}"#, .invalidField),
        (#"{"type":"eval","step":"1","tokens":1,"losses":{"code":1}}"#, .invalidField),
        (#"{"type":"eval","step":1.5,"tokens":1,"losses":{"code":1}}"#, .invalidField),
        (#"{"type":"eval","step":1,"tokens":1,"losses":{}}"#, .invalidField),
        (#"{"type":"eval","step":1,"tokens":1,"losses":[2.0]}"#, .invalidField),
        (#"{"type":"eval","step":1,"tokens":1,"losses":{"code":"2.0"}}"#, .invalidField),
        (#"{"type":"eval","step":1,"tokens":1,"losses":{"code":NaN}}"#, .invalidLoss),
        (#"{"type":"eval","step":1,"tokens":1,"losses":{"code":Infinity}}"#, .invalidLoss),
        (#"{"type":"eval","step":1,"tokens":1,"losses":{"code":-0.5}}"#, .invalidLoss),
        (#"{"type":"eval","step":1,"tokens":1,"losses":{"math":1.0}}"#, .unknownDomain),
        (#"{"type":"progress","step":1}"#, .missingField),
        (#"{"type":"next"}"#, .missingField),
        (#"{"type":"next","step":true}"#, .invalidField),
    ])
    func refusesBadLines(line: String, kind: TrainerProtocolError.Kind) {
        #expect(throws: TrainerProtocolError.self) { try decode(line) }
        do {
            _ = try decode(line)
        } catch {
            #expect(error.kind == kind, "\(error)")
            #expect(error.line == line)
        }
    }

    @Test func oversizedLineIsRefusedAndItsExcerptIsCut() {
        let line = #"{"type":"progress","step":1,"tokens":1,"pad":""# + String(repeating: "z", count: 400) + #""}"#
        do {
            _ = try decode(line)
            Issue.record("an oversized line was accepted")
        } catch {
            #expect(error.kind == .oversizedLine)
            #expect(error.line.hasPrefix(#"{"type":"progress""#))
            #expect(error.line.hasSuffix("(\(line.utf8.count) bytes)"))
            #expect(error.line.utf8.count < TrainerProtocolError.excerptBytes + 30)
        }
    }

    @Test func repliesEncodeToTheContractShape() throws {
        #expect(TrainerReply.stop.encoded() == #"{"type":"stop"}"#)
        let mixture = TrainerReply.mixture(weights: ["prose": 0.4, "code": 0.6], steps: 250)
        #expect(mixture.encoded() == #"{"steps":250,"type":"mixture","weights":{"code":0.6,"prose":0.4}}"#)
        #expect(try TrainerLineCodec.decodeReply(line: Array(mixture.encoded().utf8)) == mixture)
    }

    @Test func messagesRoundTrip() throws {
        let messages: [TrainerMessage] = [
            .hello(protocolVersion: 1), .eval(TrainerEval(step: 3, tokens: 9, losses: ["code": 1.25, "prose": 4])),
            .progress(step: 4, tokens: 12), .done, .next(step: 8),
        ]
        for message in messages {
            #expect(try decode(message.encoded()) == message)
        }
    }
}

@Suite("JSONValue")
struct JSONValueTests {
    @Test func parsesAndRendersNestedValues() throws {
        let text = #"{"a":[1,-2.5,true,false,null,"x\"y\u00e9\ud83d\ude00"],"b":{"c":1e2}}"#
        let value = try JSONValue.parse(text)
        #expect(value == .object([
            "a": .array([.integer(1), .number(-2.5), .bool(true), .bool(false), .null, .string("x\"yé😀")]),
            "b": .object(["c": .number(100)]),
        ]))
        #expect(try JSONValue.parse(value.rendered()) == value)
    }

    @Test(arguments: ["", "{", "01", "1.", "\"abc", "{\"a\" 1}", "[1,]", "tru", "\"\\x\"", "{\"a\":1,}"])
    func refusesBrokenText(text: String) {
        #expect(throws: JSONValue.SyntaxError.self) { try JSONValue.parse(text) }
    }

    @Test func refusesDeepNesting() {
        #expect(throws: JSONValue.SyntaxError.self) {
            try JSONValue.parse(String(repeating: "[", count: 100) + String(repeating: "]", count: 100))
        }
    }
}
