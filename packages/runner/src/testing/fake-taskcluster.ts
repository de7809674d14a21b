/**
 * @module testing/fake-taskcluster
 * Starts `@docker-worker/fake-taskcluster` for the runner's unit tests, imported by a string: the
 * fake is a dev dependency whose sources are not this package's to typecheck.
 */
export interface FakeTaskclusterHandle {
  rootUrl: string;
  /** Every request it answered, in order. */
  requests: { method: string; path: string; status: number }[];
  close(): Promise<void>;
}

const FAKE: string = '@docker-worker/fake-taskcluster';

export async function startFakeTaskcluster(opts: Record<string, unknown>): Promise<FakeTaskclusterHandle> {
  const fake = (await import(FAKE)) as {
    startFakeTaskcluster(o: unknown): Promise<FakeTaskclusterHandle>;
  };
  return fake.startFakeTaskcluster(opts);
}
