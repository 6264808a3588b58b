// Which task endings are the task's own failure, and which are the cluster's. Marathon records all of them in
// lastTaskFailure (state/TaskFailure.scala), so a deploy that trusted every one would blame a good version for a lost agent.

/** The task itself ended badly: its process exited non-zero, or it could not be started. */
const OWN_FAILURE_STATES = new Set(['TASK_FAILED', 'TASK_ERROR']);

/** The agent or the network, not the task: the task may still run, or was taken away by the cluster. */
export const AGENT_PROBLEM_STATES = new Set(['TASK_LOST', 'TASK_GONE', 'TASK_DROPPED', 'TASK_UNKNOWN', 'TASK_UNREACHABLE', 'TASK_GONE_BY_OPERATOR']);

/** Marathon's message when its own health checks kill a task (HealthCheckActor), for MESOS_HTTP checks too. */
export const HEALTH_CHECK_KILL_MESSAGE = 'Task was killed since health check failed';

/** Whether a task ending (state, and Marathon's message) counts against the version the task ran. */
export function isOwnFailure(state: string | undefined, message: string | undefined): boolean {
  if (state !== undefined && OWN_FAILURE_STATES.has(state)) return true;
  return state === 'TASK_KILLED' && (message ?? '').includes(HEALTH_CHECK_KILL_MESSAGE);
}

/** Whether a task ending is the cluster's doing (an agent lost, drained or unreachable). */
export function isAgentProblem(state: string | undefined): boolean {
  return state !== undefined && AGENT_PROBLEM_STATES.has(state);
}
