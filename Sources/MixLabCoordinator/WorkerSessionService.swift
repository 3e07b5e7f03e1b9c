import GRPCCore
import MixLabCore
import MixLabPKI
import MixLabRPC
import MixLabTransport

/// The `mixlab.v1.WorkerSession` service: authenticates the worker by its certificate (the worker
/// id is the certificate's common name) and hands the stream to ``Coordinator``.
struct WorkerSessionService: Mixlab_V1_WorkerSession.SimpleServiceProtocol {
    let coordinator: Coordinator

    func connect(
        request: RPCAsyncSequence<Mixlab_V1_WorkerMessage, any Error>, response: RPCWriter<Mixlab_V1_CoordinatorMessage>,
        context: ServerContext
    ) async throws {
        let identity = try context.requireRole(.worker, for: "opening a worker session")
        try await coordinator.serveWorker(worker: WorkerID(identity.name), inbound: request, writer: response)
    }
}
