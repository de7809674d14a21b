/**
 * @module @docker-worker/runner/testing
 * Test helpers shared with other packages: a FakeClock, an in-memory DockerClient, a
 * TaskRun builder for feature unit tests, and an in-memory queue (with TaskclusterClients over it).
 */
export { FakeClock } from './fake-clock.js';
export { FakeDocker } from './fake-docker.js';
export { fakeOutcome, fakeRun, fakeTask, startFeature } from './fake-run.js';
export type { FakeRunOptions, StartedFeature } from './fake-run.js';
export { httpError, MemoryQueue, networkError } from './memory-queue.js';
export type {
  Answer,
  CreatedArtifact,
  MemoryQueueOptions,
  ObjectUploadRecord,
  QueueAnswers,
  QueueCall,
  QueueMethod,
  RecordedReport,
} from './memory-queue.js';
export { fakeWorker, stubLiveLogServer } from './fake-worker.js';
export type { FakeWorker, StubLiveLogServer } from './fake-worker.js';
export { publishArtifact } from './publish-artifact.js';
