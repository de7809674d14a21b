/**
 * @module tasks
 * Task definitions the queue serves (`queue.task(taskId)`). Mutable so that tests and later parts
 * (claimWork) can add tasks while the fake runs.
 */

/** A task definition as `queue.task` returns it; only `scopes` is interpreted here. */
export type TaskDefinition = Record<string, unknown> & { scopes?: string[] };

export class TaskStore {
  private readonly tasks = new Map<string, TaskDefinition>();

  constructor(tasks: Readonly<Record<string, TaskDefinition>> = {}) {
    for (const [taskId, task] of Object.entries(tasks)) this.add(taskId, task);
  }

  add(taskId: string, task: TaskDefinition): void {
    this.tasks.set(taskId, structuredClone(task));
  }

  get(taskId: string): TaskDefinition | undefined {
    const task = this.tasks.get(taskId);
    return task === undefined ? undefined : structuredClone(task);
  }
}
