import { scheduleWindowProblem } from '../policy/decide.js';
import type { ScheduleWindow } from '../policy/types.js';

/** Schedule windows that cannot be evaluated (cron syntax, time zone), by JSON path: refused at registration. */
export function scheduleProblems(schedules: ScheduleWindow[]): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  schedules.forEach((window, index) => {
    const problem = scheduleWindowProblem(window);
    if (problem) problems.push({ path: `schedules.${index}`, message: problem });
  });
  return problems;
}
