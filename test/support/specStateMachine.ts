// The SPEC's run state machine, written out independently of src/domain/RunStateMachine.ts, so the
// tests check the implementation against the contract rather than against itself.
import type { WorkflowRunStatus } from "../../schema/WorkflowRun.ts"

/** Where a run may go from each status (`new`: a run that does not exist yet). */
export const ALLOWED: Readonly<Record<WorkflowRunStatus | "new", ReadonlyArray<WorkflowRunStatus>>> = {
  new: ["queued", "started", "dropped"],
  queued: ["started", "dropped", "killed", "interrupted", "failed"],
  started: ["completed", "failed", "crashed", "interrupted", "dropped", "killed"],
  crashed: ["started", "queued", "failed", "killed"],
  interrupted: ["started", "queued", "failed", "killed"],
  completed: [],
  failed: [],
  dropped: [],
  killed: []
}
