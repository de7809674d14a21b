/**
 * @module tasks
 * Task definitions the queue serves (`queue.task(taskId)`). Mutable so that tests and later parts
 * (claimWork) can add tasks while the fake runs.
 */

/** A task definition as `queue.task` returns it; only `scopes` is interpreted here. */
export type TaskDefinition = Record<string, unknown> & { scopes?: string[] };

/**
 * A copy of a JSON value (a task definition came as a JSON body). A JSON round trip, not
 * structuredClone: that one recurses deeper per level and overflowed the stack on a payload
 * nested ~3000 levels deep that the JSON body parser had accepted (found by the fault suite, R1).
 */
export const cloneJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export class TaskStore {
  private readonly tasks = new Map<string, TaskDefinition>();

  constructor(tasks: Readonly<Record<string, TaskDefinition>> = {}) {
    for (const [taskId, task] of Object.entries(tasks)) this.add(taskId, task);
  }

  add(taskId: string, task: TaskDefinition): void {
    this.tasks.set(taskId, cloneJson(task));
  }

  get(taskId: string): TaskDefinition | undefined {
    const task = this.tasks.get(taskId);
    return task === undefined ? undefined : cloneJson(task);
  }
}
