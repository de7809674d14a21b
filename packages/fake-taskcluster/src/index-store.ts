/**
 * @module index-store
 * Index entries by namespace: an insert replaces the entry when its rank is at least the stored one.
 */
export interface IndexEntry {
  namespace: string;
  taskId: string;
  rank: number;
  data: Record<string, unknown>;
  expires: string;
}

export class IndexStore {
  private readonly entries = new Map<string, IndexEntry>();

  find(namespace: string, now: number): IndexEntry | undefined {
    const entry = this.entries.get(namespace);
    return entry && Date.parse(entry.expires) > now ? structuredClone(entry) : undefined;
  }

  /** Inserts (or keeps a higher-ranked entry) and returns what the namespace now holds. */
  insert(
    namespace: string,
    input: { taskId: string; rank?: number; data?: Record<string, unknown>; expires: string | Date },
  ): IndexEntry {
    const entry: IndexEntry = {
      namespace,
      taskId: input.taskId,
      rank: input.rank ?? 0,
      data: input.data ?? {},
      expires: new Date(input.expires).toJSON(),
    };
    const existing = this.entries.get(namespace);
    if (!existing || existing.rank <= entry.rank) this.entries.set(namespace, entry);
    return structuredClone(this.entries.get(namespace) as IndexEntry);
  }
}
